/*
 * hex - one hexadecimal digit's value. Shared by the parsers that read hex
 * (percent-escapes in query strings, SHA-256 key digests). No I/O.
 */
#ifndef BGW_HEX_H
#define BGW_HEX_H

/* 0-15 for [0-9a-fA-F], else -1. */
int hex_digit(char c);

#endif
