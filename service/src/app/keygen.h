/*
 * keygen - `bedrockgw keygen --tenant ID`: mints credentials for a tenant:
 * an AWS-style access key (id + secret, for the AWS-compatible front) and
 * an API key (REST/gRPC). The secrets go into files created with mode 0600
 * (never overwriting one); stdout gets the tenant's config snippet, with
 * the API key only as its SHA-256 and the AWS secret as a secret_file
 * path. The secrets themselves are printed only with --print-secrets.
 */
#ifndef BGW_KEYGEN_H
#define BGW_KEYGEN_H

#include <stdio.h>

/* argv after "keygen". Exit status: 0, 1 (failure), 2 (usage). */
int keygen_main(int argc, char **argv, FILE *out, FILE *err);

#endif
