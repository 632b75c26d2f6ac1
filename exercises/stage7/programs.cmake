# Chapter 7's netlink messages are built with libmnl (linked: a container's
# start on a network uses it). libnftables is lib's (lib/src/nftables.cpp
# loads it with dlopen when box changes its table).
find_library(BOX_LIBMNL_LIB NAMES mnl REQUIRED)
list(APPEND BOX_STAGE_LIBS ${BOX_LIBMNL_LIB})
