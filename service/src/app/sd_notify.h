/*
 * sd_notify - tells systemd (Type=notify) how the gateway is: READY=1 when
 * it starts serving and after a reload, RELOADING=1 while it reloads,
 * STOPPING=1 when it drains. The datagram protocol to $NOTIFY_SOCKET (a
 * path or, with a leading '@', an abstract name) is a few lines, so the
 * gateway speaks it itself instead of linking libsystemd. Without
 * NOTIFY_SOCKET nothing happens; errors are ignored (as sd_notify does).
 */
#ifndef BGW_SD_NOTIFY_H
#define BGW_SD_NOTIFY_H

/* state: "READY=1", "STOPPING=1", ... (newline-separated assignments). */
void sd_notify_send(const char *state);

#endif
