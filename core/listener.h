/*
 * listener.h: the server's listening socket (socket, bind, listen, accept).
 *
 * IPv4 and IPv6 ("127.0.0.1:0", "[::1]:8080", "*:8080", ":8080"), with
 * SO_REUSEADDR, a backlog, and TCP_NODELAY on every accepted socket (the
 * server answers small responses; Nagle would delay pipelined answers).
 *
 * Errors: negative errno, never printed.  listener_new(), where a failure
 * has a step worth naming, also writes a message into the caller's errbuf
 * naming the step, the address and the system error, as redis's anet
 * does ("bind 127.0.0.1:80: Permission denied"); accept's errors are
 * plain -errno.  listener_strerror() turns an errno into advice.
 *
 * The listener owns its fd; accepted fds belong to the caller.
 */
#ifndef PKTMEM_CORE_LISTENER_H
#define PKTMEM_CORE_LISTENER_H

#include <stdint.h>
#include <sys/socket.h>

#define LISTENER_DEFAULT_BACKLOG 4096	/* clamped by net.core.somaxconn */

struct listener;

/* Parses addr ("HOST:PORT", "[V6]:PORT", ":PORT") and listens on it.  On
 * failure *out is NULL, errmsg (if non-NULL) holds the message. */
int listener_new(struct listener **out, const char *addr, int backlog,
		 char *errmsg, size_t errlen);
int listener_fd(const struct listener *l);
/* The bound port (host order), useful after binding port 0. */
uint16_t listener_port(const struct listener *l);
/* "127.0.0.1:34567" or "[::1]:34567". */
const char *listener_name(const struct listener *l);
/*
 * Accepts one connection: the fd (close-on-exec, non-blocking when
 * nonblock, TCP_NODELAY set), the peer in *peer.  -EAGAIN when none is
 * waiting on a non-blocking listener; -EMFILE/-ENFILE when out of fds.
 */
int listener_accept(struct listener *l, struct sockaddr_storage *peer,
		    int nonblock);
/* Advice for an errno returned by listener_new/accept. */
const char *listener_strerror(int err);
/* Splits a peer address into family, address bytes (4 or 16) and port. */
int listener_peer_key(const struct sockaddr_storage *peer, int *family,
		      const void **addr, uint16_t *port);
void listener_free(struct listener *l);

#endif
