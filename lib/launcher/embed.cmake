# cmake -DIN=box-launcher -DOUT=launcher_image.cpp -P embed.cmake: the
# launcher's bytes as a C++ array that lib/src/sys.cpp execs from a memfd.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
set(body "")
foreach(at RANGE 0 ${digits} 64)  # 32 bytes a line
  string(SUBSTRING "${hex}" ${at} 64 chunk)
  if(chunk STREQUAL "")
    break()
  endif()
  string(REGEX REPLACE "(..)" "\\\\x\\1" chunk "${chunk}")
  string(APPEND body "    \"${chunk}\"\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from box-launcher by lib/launcher/embed.cmake: do not edit.
extern \"C\" const char box_launcher_image[] =
${body};
extern \"C\" const unsigned long box_launcher_size = ${size};
")
file(RENAME ${OUT}.tmp ${OUT})
