/// @file nftables.hpp
/// @brief The kernel's packet filter and NAT (nf_tables), driven with
/// libnftables: box hands it commands in nft's own language, traced.
///
/// libnftables (Debian's libnftables1, from nftables) is what the `nft`
/// program is built on: it parses the commands, turns them into nf_tables
/// netlink messages and sends them as one transaction, so a batch applies
/// whole or not at all. box loads it with dlopen on first use.
#pragma once

#include <string>

namespace box {

/// Runs `commands` (nft syntax, one command per line) as one transaction.
/// Traced as `nft("add element ip box ...") = 0`; throws box::Error with
/// nft's own message if the kernel or the parser refuses, unless
/// `tolerate_missing` and the refusal is "No such file or directory" (a
/// delete of something already gone), which returns false.
///
/// After commands that delete set or map elements, the context is freed and
/// its socket's release left to box::close_later's helper: that release
/// waits until nf_tables has freed what they took, after an RCU grace period
/// (5-15 ms here, what every `nft delete element` waits at its end).
bool nft(const std::string& commands, bool tolerate_missing = false);

}  // namespace box
