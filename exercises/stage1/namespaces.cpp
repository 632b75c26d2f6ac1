// Chapter 1: the namespaces a container is made of, and the user
// namespace's id maps.
#include <sched.h>
#include <unistd.h>

#include "box/error.hpp"
#include "box/sys.hpp"
#include "stage1.hpp"

namespace box::stage1 {

unsigned long namespace_flags(const ContainerSpec& spec) {
    // EXERCISE 1: write namespace_flags() — see chapters/01-namespaces/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("namespace_flags()", "chapters/01-namespaces", 1);
}

void write_id_maps(pid_t pid, const ContainerSpec& spec) {
    // EXERCISE 2: write write_id_maps() — see chapters/01-namespaces/README.md, exercise 2.
    // Replace the line below with your code.
    box::not_implemented("write_id_maps()", "chapters/01-namespaces", 2);
}

}  // namespace box::stage1
