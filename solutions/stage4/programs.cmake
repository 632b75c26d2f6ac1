# Chapter 4's programs besides box (see box_program in the top CMakeLists.txt).
# box-shim: the supervisor each detached container keeps (shim.cpp).
box_program(box-shim shim.cpp LIB error.cpp channel.cpp clock.cpp)
