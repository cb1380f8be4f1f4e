/*
 * credentials_parse - the formats AWS credentials arrive in, parsed without
 * I/O: STS AssumeRole / AssumeRoleWithWebIdentity XML replies, the JSON of
 * the container endpoint and EC2 instance metadata, and the INI text of the
 * shared credentials/config files.
 *
 * Hostile input is expected: every field is length-bounded, the XML reader
 * only looks for the few elements it needs (no DTDs, no entities beyond the
 * five predefined ones and numeric references), and failures describe the
 * problem without quoting secret material. Parsed secrets are heap strings
 * owned by the caller; credentials_parse_wipe wipes and frees them.
 */
#ifndef BGW_CREDENTIALS_PARSE_H
#define BGW_CREDENTIALS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "credentials.h"

#define CREDENTIALS_FIELD_MAX 8192 /* longest key id, secret, token accepted */

/* STS reply body (any of the AssumeRole* actions). 0 with out's three
 * strings and expires_at_ms set; -1 with a reason in why (an STS
 * <Error><Code> is named, e.g. "STS error AccessDenied: <message>"). why is
 * always printable ASCII: quoted STS text has other bytes replaced by '?'.
 * The key id and the session token are printable ASCII without blanks (the
 * token goes into a request header): anything else is malformed. */
int credentials_parse_sts_xml(const char *body, size_t len, struct credentials *out, char *why,
                              size_t why_len);

/* Container / IMDS JSON: AccessKeyId, SecretAccessKey, Token, Expiration
 * (ISO 8601), and for IMDS "Code":"Success". Expiration may be absent
 * (then the credentials do not expire); a member given twice is an error;
 * the key id and Token must be printable ASCII without blanks.
 * 0 or -1 with why. jansson's copies of SecretAccessKey and Token in a
 * parsed document are wiped; the scratch buffers of its lexer (and what it
 * had read of a document it rejects as malformed) are freed by jansson
 * without wiping. */
int credentials_parse_json(const char *body, size_t len, struct credentials *out, char *why,
                           size_t why_len);

/* Wipes and frees the three strings of c (source left alone). */
void credentials_parse_wipe(struct credentials *c);

/* INI lookup: the value of key in [section] of text ("#" and ";" start
 * comment lines; lines end at "\n", "\r\n" or a bare "\r"; names and values
 * are trimmed; the first match wins). 1 when
 * found (copied into out), 0 when absent, -1 when the value does not fit. */
int credentials_ini_get(const char *text, const char *section, const char *key, char *out,
                        size_t out_len);
/* 1 when [section] exists in text. */
int credentials_ini_has_section(const char *text, const char *section);

#endif
