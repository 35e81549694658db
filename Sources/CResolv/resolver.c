// libresolv shim: resolver state, one query, walking the answer. See include/CResolv.h.
#define _GNU_SOURCE
#include "CResolv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct cresolv_context {
    struct __res_state state;
};

// The largest DNS message (a TCP answer); truncated UDP answers are retried over TCP by res_nsend.
#define ANSWER_CAPACITY 65535

cresolv_context *cresolv_open(const char *server_ipv4, uint16_t port, int timeout_seconds, int attempts,
                              char *error, size_t error_length) {
    cresolv_context *context = calloc(1, sizeof *context);
    if (context == NULL) {
        snprintf(error, error_length, "out of memory");
        return NULL;
    }
    if (res_ninit(&context->state) != 0) {
        snprintf(error, error_length, "res_ninit failed (cannot read /etc/resolv.conf?)");
        free(context);
        return NULL;
    }
    // Short timeouts so a dead server does not hang callers: timeout_seconds per try.
    context->state.retrans = timeout_seconds;
    context->state.retry = attempts;
    if (server_ipv4 == NULL) return context;

    // Direct mode: replace the servers from resolv.conf with the one given. res_nsend copies
    // nsaddr_list into its private list when nscount changes, so this is all glibc needs.
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, server_ipv4, &address.sin_addr) != 1) {
        snprintf(error, error_length, "not an IPv4 address: %s", server_ipv4);
        cresolv_close(context);
        return NULL;
    }
    context->state.nsaddr_list[0] = address;
    context->state.nscount = 1;
    return context;
}

void cresolv_close(cresolv_context *context) {
    if (context == NULL) return;
    res_nclose(&context->state);
    free(context);
}

void cresolv_describe_servers(const cresolv_context *context, char *out, size_t length) {
    const struct __res_state *state = &context->state;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < state->nscount && used < length; i++) {
        char text[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;
        const struct sockaddr_in6 *v6 = state->_u._ext.nsaddrs[i];
        if (state->nsaddr_list[i].sin_family == AF_INET) {
            inet_ntop(AF_INET, &state->nsaddr_list[i].sin_addr, text, sizeof text);
            port = ntohs(state->nsaddr_list[i].sin_port);
        } else if (v6 != NULL && v6->sin6_family == AF_INET6) {
            inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
            port = ntohs(v6->sin6_port);
        }
        int written = snprintf(out + used, length - used, "%snameserver %s:%u", i > 0 ? ", " : "", text, port);
        if (written < 0) break;
        used += (size_t)written;
    }
    if (state->nscount == 0) snprintf(out, length, "no nameserver configured");
}

static cresolv_records failure(cresolv_status status, const char *detail) {
    cresolv_records records = {.status = status};
    snprintf(records.detail, sizeof records.detail, "%s", detail);
    return records;
}

// res_nsend reports transport failures through errno only; glibc sets ETIMEDOUT when some
// server was reached but none answered in time, ECONNREFUSED when every server refused, sent
// SERVFAIL/REFUSED/NOTIMP, or could not be reached at all.
static cresolv_records send_failure(int saved_errno) {
    if (saved_errno == ETIMEDOUT)
        return failure(CRESOLV_TIMEOUT, "no answer within the timeout");
    if (saved_errno == ECONNREFUSED)
        return failure(CRESOLV_REFUSED, "connection refused, or SERVFAIL/REFUSED from every server");
    char detail[CRESOLV_MAX_DETAIL];
    snprintf(detail, sizeof detail, "sending the query failed: %s", strerror(saved_errno));
    return failure(CRESOLV_OTHER, detail);
}

static cresolv_records rcode_failure(int rcode) {
    switch (rcode) {
    case ns_r_nxdomain: return failure(CRESOLV_NOT_FOUND, "no such name (NXDOMAIN)");
    case ns_r_servfail: return failure(CRESOLV_SERVER_FAILURE, "server failure (SERVFAIL)");
    case ns_r_refused: return failure(CRESOLV_REFUSED, "query refused (REFUSED)");
    default: {
        char detail[CRESOLV_MAX_DETAIL];
        snprintf(detail, sizeof detail, "server answered with rcode %d", rcode);
        return failure(CRESOLV_SERVER_FAILURE, detail);
    }
    }
}

// Sends one query of `type` and parses the answer header; on success `message` is ready to walk.
static cresolv_records send_query(cresolv_context *context, const char *name, int type,
                                  unsigned char *answer, ns_msg *message) {
    unsigned char query[NS_PACKETSZ];
    int query_length = res_nmkquery(&context->state, ns_o_query, name, ns_c_in, type, NULL, 0, NULL,
                                    query, sizeof query);
    if (query_length < 0) return failure(CRESOLV_OTHER, "cannot build a query for this name (too long?)");
    errno = 0;
    int answer_length = res_nsend(&context->state, query, query_length, answer, ANSWER_CAPACITY);
    if (answer_length < 0) return send_failure(errno);
    if (ns_initparse(answer, answer_length, message) < 0) return failure(CRESOLV_MALFORMED, "cannot parse the answer");
    int rcode = ns_msg_getflag(*message, ns_f_rcode);
    if (rcode != ns_r_noerror) return rcode_failure(rcode);
    return (cresolv_records){.status = CRESOLV_OK};
}

// Fills `srv` from one SRV record: priority, weight, port (16 bits each), then the target name.
static int read_srv(const ns_msg *message, const ns_rr *record, cresolv_srv *srv) {
    const unsigned char *data = ns_rr_rdata(*record);
    if (ns_rr_rdlen(*record) < 7) return -1;
    srv->priority = ns_get16(data);
    srv->weight = ns_get16(data + 2);
    srv->port = ns_get16(data + 4);
    srv->ttl = ns_rr_ttl(*record);
    if (dn_expand(ns_msg_base(*message), ns_msg_end(*message), data + 6, srv->target, sizeof srv->target) < 0) return -1;
    return 0;
}

static int read_a(const ns_rr *record, cresolv_a *a) {
    if (ns_rr_rdlen(*record) != 4) return -1;
    a->ttl = ns_rr_ttl(*record);
    return inet_ntop(AF_INET, ns_rr_rdata(*record), a->address, sizeof a->address) == NULL ? -1 : 0;
}

// Walks the answer section keeping records of `type` (CNAMEs on the way are skipped).
static cresolv_records walk_answers(ns_msg *message, int type) {
    int total = ns_msg_count(*message, ns_s_an);
    cresolv_records records = {.status = CRESOLV_OK};
    records.srv = type == ns_t_srv ? calloc((size_t)total + 1, sizeof(cresolv_srv)) : NULL;
    records.a = type == ns_t_a ? calloc((size_t)total + 1, sizeof(cresolv_a)) : NULL;
    if (records.srv == NULL && records.a == NULL) return failure(CRESOLV_OTHER, "out of memory");
    for (int i = 0; i < total; i++) {
        ns_rr record;
        if (ns_parserr(message, ns_s_an, i, &record) < 0) {
            cresolv_records_free(&records);
            return failure(CRESOLV_MALFORMED, "cannot parse an answer record");
        }
        if ((int)ns_rr_type(record) != type || ns_rr_class(record) != ns_c_in) continue;
        int bad = type == ns_t_srv ? read_srv(message, &record, &records.srv[records.count])
                                   : read_a(&record, &records.a[records.count]);
        if (bad) {
            cresolv_records_free(&records);
            return failure(CRESOLV_MALFORMED, type == ns_t_srv ? "malformed SRV record" : "malformed A record");
        }
        records.count++;
    }
    if (records.count == 0) {
        cresolv_records_free(&records);
        return failure(CRESOLV_NO_ANSWER, type == ns_t_srv ? "the name has no SRV record" : "the name has no A record");
    }
    return records;
}

static cresolv_records query(cresolv_context *context, const char *name, int type) {
    unsigned char *answer = malloc(ANSWER_CAPACITY);
    if (answer == NULL) return failure(CRESOLV_OTHER, "out of memory");
    ns_msg message;
    cresolv_records records = send_query(context, name, type, answer, &message);
    if (records.status == CRESOLV_OK) records = walk_answers(&message, type);
    free(answer);
    return records;
}

cresolv_records cresolv_query_srv(cresolv_context *context, const char *name) { return query(context, name, ns_t_srv); }

cresolv_records cresolv_query_a(cresolv_context *context, const char *name) { return query(context, name, ns_t_a); }

void cresolv_records_free(cresolv_records *records) {
    free(records->srv);
    free(records->a);
    records->srv = NULL;
    records->a = NULL;
    records->count = 0;
}

int cresolv_ipv4_of(const char *host, char *out, char *error, size_t error_length) {
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *found = NULL;
    int result = getaddrinfo(host, NULL, &hints, &found);
    if (result != 0) {
        snprintf(error, error_length, "%s", gai_strerror(result));
        return result;
    }
    const struct sockaddr_in *address = (const struct sockaddr_in *)found->ai_addr;
    inet_ntop(AF_INET, &address->sin_addr, out, CRESOLV_MAX_ADDRESS);
    freeaddrinfo(found);
    return 0;
}
