/*
 * input.h - every request body and query string of the API, the token's
 * included, validated.
 * Pure functions: a parsed JSON body (or the raw query string) in, a typed
 * struct or a fault out; no I/O and no globals, so one fuzz harness
 * reaches them all.  The route table names the validator of each route.
 */
#ifndef PINGOO_INPUT_H
#define PINGOO_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "export/export.h"
#include "measure/measure.h"

struct json_object;

/* json.c: strict parsing.  The whole text must be one JSON object, at most
 * `depth` levels deep, with no trailing bytes, valid UTF-8 and no duplicate
 * keys.  On success *out holds a new reference the caller puts. */
enum pingoo_err	 pingoo_json_parse(const char *buf, size_t len, int depth,
		    struct json_object **out, struct pingoo_fault *);
/* Field readers: each refuses a wrong type with a fault naming the field.
 * Integers must be JSON integers (no floats, no strings) within [min,max]. */
enum pingoo_err	 pingoo_json_int(struct json_object *, const char *key,
		    int required, int64_t min, int64_t max, int64_t *out,
		    struct pingoo_fault *);
enum pingoo_err	 pingoo_json_str(struct json_object *, const char *key,
		    int required, size_t maxlen, const char **out,
		    struct pingoo_fault *);
enum pingoo_err	 pingoo_json_bool(struct json_object *, const char *key,
		    int required, int *out, struct pingoo_fault *);
/* Refuses keys outside the NULL-terminated list. */
enum pingoo_err	 pingoo_json_only(struct json_object *, const char *const *keys,
		    struct pingoo_fault *);

/* validate.c: pure validators, string in, typed value or fault out. */
enum pingoo_err	 pingoo_valid_username(const char *, struct pingoo_fault *);
enum pingoo_err	 pingoo_valid_password(const char *, struct pingoo_fault *);
/* The optional "client" description: an object of short strings
 * (platform, app_version, network_type, carrier, os, device, ...).
 * On success *out is its canonical serialization (malloc'd, caller frees)
 * or NULL when absent. */
enum pingoo_err	 pingoo_valid_client(struct json_object *parent,
		    size_t maxbytes, char **out, struct pingoo_fault *);

/* cors.c */
/* 1 when origin (the request's Origin header) is in `allowed`, a list of
 * origins separated by spaces or commas, compared without regard to case;
 * "*" allows every origin.  An empty origin is never allowed. */
int		 pingoo_cors_allowed(const char *allowed, const char *origin);

/* What a validator reads. */
struct pingoo_input_src {
	const struct pingoo_config	*cfg;		/* the limits */
	struct json_object		*body;		/* NULL on query routes */
	const char			*query;		/* "" when none */
	/* The test and user a receipt's signature must name. */
	uint64_t			 test_id, user_id;
};

/* POST /api/v1/ping-tests */
struct pingoo_in_ping_create {
	uint32_t	 count;
	int32_t		 interval_ms;	/* -1 when not given */
	char		*client;	/* canonical JSON or NULL; owned */
};

/* POST /api/v1/ping-tests/{id}/echo */
struct pingoo_in_echo {
	uint32_t	 seq;
	int64_t		 client_sent_at;
};

/* POST /api/v1/ping-tests/{id}/receipts: v[0..n), owned */
struct pingoo_in_receipts {
	struct pingoo_receipt	*v;
	size_t			 n;
};

/* POST /api/v1/throughput-tests */
struct pingoo_in_tp_create {
	unsigned	 dirs;		/* PINGOO_TP_MASK bits */
	int		 simultaneous;	/* both directions at once */
	uint32_t	 packets;	/* 0 in a time-bounded test */
	uint64_t	 packet_size;	/* 0: none given (time-bounded) */
	uint32_t	 duration_ms;	/* 0 in an N x S test */
	char		*client;	/* canonical JSON or NULL; owned */
};

/* GET .../download/{seq}?bytes=N: the packet's size, 0 when not given */
struct pingoo_in_tp_packet {
	uint64_t	 bytes;
};

/* POST /api/v1/throughput-tests/{id}/reports: v[0..n), owned */
struct pingoo_in_reports {
	struct pingoo_tp_report	*v;
	size_t			 n;
};

/* POST /api/v1/throughput-tests/{id}/probes */
struct pingoo_in_probe {
	uint32_t		 seq;		/* < PINGOO_TP_MAX_PROBES */
	enum pingoo_phase	 phase;
	int64_t			 client_sent_at;
};

/* POST /api/v1/throughput-tests/{id}/probe-receipts: v[0..n), owned */
struct pingoo_in_probe_receipts {
	struct pingoo_probe_receipt	*v;
	size_t				 n;
};

/* POST /api/v1/auth/token: the credentials as given, copies the input owns
 * (pingoo_input_clear wipes the password's bytes).  Only their type and
 * length are checked: a name no account can have is an unknown user, for
 * the handler to refuse like any other (401), not a malformed body. */
struct pingoo_in_token {
	char		*username;	/* at most 64 bytes */
	char		*password;	/* at most 1024 bytes */
};

/* ?limit=&cursor= of both list routes */
struct pingoo_in_page {
	uint64_t	 limit;		/* 1..list_max_limit */
	uint64_t	 cursor;	/* 0 = from the newest */
};

enum pingoo_input_kind {
	PINGOO_IN_NONE = 0,
	PINGOO_IN_PING_CREATE,
	PINGOO_IN_ECHO,
	PINGOO_IN_RECEIPTS,
	PINGOO_IN_TP_CREATE,
	PINGOO_IN_REPORTS,
	PINGOO_IN_PAGE,
	PINGOO_IN_PROBE,
	PINGOO_IN_PROBE_RECEIPTS,
	PINGOO_IN_EXPORT,
	PINGOO_IN_AGGREGATES,
	PINGOO_IN_TP_PACKET,
	PINGOO_IN_TOKEN,
	PINGOO_IN__MAX
};

/* A validated input; kind says which member holds it. */
struct pingoo_input {
	enum pingoo_input_kind	kind;
	union {
		struct pingoo_in_ping_create	ping_create;
		struct pingoo_in_echo		echo;
		struct pingoo_in_receipts	receipts;
		struct pingoo_in_tp_create	tp_create;
		struct pingoo_in_reports	reports;
		struct pingoo_in_page		page;
		struct pingoo_in_probe		probe;
		struct pingoo_in_probe_receipts	probe_receipts;
		struct pingoo_in_tp_packet	tp_packet;
		/* ?from=&to=&kind= (&group= of the aggregates) */
		struct pingoo_export_query	export;
		struct pingoo_in_token		token;
	} u;
};

/* Every validator: on PINGOO_OK *in holds the typed value (release it with
 * pingoo_input_clear); otherwise the fault says why and *in owns nothing. */
typedef enum pingoo_err (*pingoo_validator)(const struct pingoo_input_src *,
    struct pingoo_input *, struct pingoo_fault *);

/* input.c */
enum pingoo_err	pingoo_in_ping_create(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
enum pingoo_err	pingoo_in_echo(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* Stamps brought back with a sig are checked against the server's
 * signature for src->test_id and src->user_id (422 invalid_sig). */
enum pingoo_err	pingoo_in_receipts(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
enum pingoo_err	pingoo_in_tp_create(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
enum pingoo_err	pingoo_in_reports(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
enum pingoo_err	pingoo_in_probe(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* Each receipt names its probe (seq, phase, client_sent_at) and gives
 * client_received_at, null when no answer came; stamps brought back with a
 * sig are checked as pingoo_in_receipts does. */
enum pingoo_err	pingoo_in_probe_receipts(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* Strict about limit and cursor (each at most once), deaf to other keys. */
enum pingoo_err	pingoo_in_page(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* from and to (0..2^53, from < to; default all time) and kind (ping or
 * throughput; default both), each at most once; other keys ignored. */
enum pingoo_err	pingoo_in_export(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* The same and group (network_type, platform, carrier or day; default
 * network_type). */
enum pingoo_err	pingoo_in_aggregates(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* A packet's query: ?bytes=N within the packet size limits. */
enum pingoo_err	pingoo_in_tp_packet(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* {"username", "password"}, both strings, no other key. */
enum pingoo_err	pingoo_in_token(const struct pingoo_input_src *,
		    struct pingoo_input *, struct pingoo_fault *);
/* The validator of a kind; NULL for PINGOO_IN_NONE or out of range. */
pingoo_validator pingoo_input_validator(enum pingoo_input_kind);
/* Frees what *in owns and marks it PINGOO_IN_NONE; safe to call twice. */
void		pingoo_input_clear(struct pingoo_input *);

#endif
