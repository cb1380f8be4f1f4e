# cmake -DIN=<file> -DOUT=<file.c> -DSYMBOL=<name> -P embed.cmake
# Writes the bytes of IN as a C array (used for files the binary serves:
# the reflection descriptor set, the OpenAPI document).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from ${IN} by service/embed.cmake. Do not edit. */\n"
     "#include <stddef.h>\n"
     "const unsigned char ${SYMBOL}[] = {\n${body}0x00};\n"
     "const size_t ${SYMBOL}_len = ${len};\n")
