// A small C face on glibc's libresolv for the Discovery module.
//
// Swift cannot reach `struct __res_state` cleanly (unions, macros such as `_res`, h_errno kept
// inside the state) nor the `ns_*` parser macros, so this shim owns the resolver state and hands
// Swift plain structs: SRV and A records with their TTLs, and a status saying why a query failed.
// Every function is blocking; callers run them off the event loops.
#ifndef CRESOLV_H
#define CRESOLV_H

#include <stddef.h>
#include <stdint.h>

/// Why a query ended. `CRESOLV_OK` is the only status with records.
typedef enum {
    CRESOLV_OK = 0,
    CRESOLV_NOT_FOUND,      // NXDOMAIN: the name does not exist
    CRESOLV_NO_ANSWER,      // the name exists but has no record of the asked type
    CRESOLV_TIMEOUT,        // no server answered within the timeout and tries
    CRESOLV_REFUSED,        // the server is not listening (ICMP port unreachable) or said REFUSED
    CRESOLV_SERVER_FAILURE, // SERVFAIL, NOTIMP, FORMERR
    CRESOLV_MALFORMED,      // an answer libresolv could not parse
    CRESOLV_OTHER,          // anything else (name too long, out of memory, bad configuration)
} cresolv_status;

enum {
    CRESOLV_MAX_NAME = 1025,  // NS_MAXDNAME
    CRESOLV_MAX_ADDRESS = 16, // INET_ADDRSTRLEN
    CRESOLV_MAX_DETAIL = 256,
    CRESOLV_MAX_SERVERS = 512,
};

typedef struct {
    uint16_t priority;
    uint16_t weight;
    uint16_t port;
    uint32_t ttl;
    char target[CRESOLV_MAX_NAME];
} cresolv_srv;

typedef struct {
    uint32_t ttl;
    char address[CRESOLV_MAX_ADDRESS];
} cresolv_a;

/// Records of one query, owned by the shim; free with `cresolv_records_free`.
typedef struct {
    cresolv_status status;
    int count;
    cresolv_srv *srv; // for SRV queries, `count` entries
    cresolv_a *a;     // for A queries, `count` entries
    char detail[CRESOLV_MAX_DETAIL]; // a human-readable reason when status != OK
} cresolv_records;

/// One resolver state (`struct __res_state`). Not thread-safe: use it from one thread at a time.
typedef struct cresolv_context cresolv_context;

/// A resolver reading /etc/resolv.conf (system mode) when `server_ipv4` is NULL, otherwise one
/// that asks only `server_ipv4`:`port` (direct mode). `timeout_seconds` per try, `attempts` tries.
/// Returns NULL and fills `error` when libresolv cannot be initialised.
cresolv_context *cresolv_open(const char *server_ipv4, uint16_t port, int timeout_seconds, int attempts,
                              char *error, size_t error_length);
void cresolv_close(cresolv_context *context);

/// The servers this context asks, for messages: "nameserver 10.96.0.10:53, nameserver ::1:53".
void cresolv_describe_servers(const cresolv_context *context, char *out, size_t length);

/// Queries SRV or A records of `name` (fully qualified; no search list is applied).
cresolv_records cresolv_query_srv(cresolv_context *context, const char *name);
cresolv_records cresolv_query_a(cresolv_context *context, const char *name);
void cresolv_records_free(cresolv_records *records);

/// The first IPv4 address of `host` (an IP literal or a name, through getaddrinfo), written to
/// `out` (CRESOLV_MAX_ADDRESS bytes). Returns 0, or a getaddrinfo error whose text is in `error`.
int cresolv_ipv4_of(const char *host, char *out, char *error, size_t error_length);

#endif
