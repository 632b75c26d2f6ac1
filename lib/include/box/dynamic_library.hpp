/// @file dynamic_library.hpp
/// @brief A shared library loaded with dlopen, and its functions looked up by name.
///
/// box loads libcurl, libarchive and libcrypto this way, on first use: linked
/// normally they (and the thirty-odd libraries they need) would load at every
/// start of box, though only the image commands use them.
#pragma once

#include <string>
#include <type_traits>

namespace box {

/// A library opened with dlopen (never closed: its functions stay valid).
class DynamicLibrary {
public:
    /// Opens `soname` (e.g. "libcurl.so.4"); throws box::Error that names the
    /// Debian package to install (`package`) if it cannot.
    DynamicLibrary(const std::string& soname, const std::string& package);

    /// Sets `fn` to the library's function `name`. Declare `fn` with the
    /// function's own type — `decltype(&curl_easy_init) fn;` — so every call,
    /// variadic ones included, is type-correct. Throws if it is missing.
    template <typename F>
    void get(F& fn, const char* name) const {
        fn = reinterpret_cast<F>(lookup(name));
    }

private:
    void* lookup(const char* name) const;
    void* handle_;
    std::string soname_;
};

}  // namespace box
