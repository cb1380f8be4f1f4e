/*
 * probe - `bedrockgw --probe URL`: a health check with no shell tools, for
 * container HEALTHCHECKs and exec probes. http(s)://host:port/readyz (or any
 * path): ready when the answer is 200. grpc(s)://host:port: the standard
 * grpc.health.v1.Health/Check over HTTP/2 (h2c or TLS with ALPN): ready
 * when it says SERVING. Exit 0 ready, 1 not (the reason on stderr), 2 usage.
 */
#ifndef BGW_PROBE_H
#define BGW_PROBE_H

/* argv after "--probe": URL [--insecure] [--timeout-ms N] */
int probe_main(int argc, char **argv);

#endif
