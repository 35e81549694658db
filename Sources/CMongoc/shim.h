#include <mongoc/mongoc.h>
#include <bson/bson.h>

/* libbson declares bson_t and bson_iter_t 128-byte aligned; Swift cannot import such structs, so
   it sees pointers to them as OpaquePointer and Swift code must allocate their storage itself,
   with the size and alignment these report. */
static inline size_t cmongoc_bson_size(void) { return sizeof(bson_t); }
static inline size_t cmongoc_bson_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t cmongoc_bson_alignment(void) {
    return _Alignof(bson_t) > _Alignof(bson_iter_t) ? _Alignof(bson_t) : _Alignof(bson_iter_t);
}
