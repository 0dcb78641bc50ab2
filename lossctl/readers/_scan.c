/*
 * lossctl.readers._scan: a streaming TensorBoard scalar reader.
 *
 * scan(path, verify, plugins, buffer_size, start) walks a TFRecord file in bounded chunks from byte
 * ``start`` (0: the whole file; `lossctl watch` resumes where the last call stopped), checks both masked
 * CRC-32C sums of every record (when verify is true), and decodes only what scalars need from
 * each tensorflow.Event with a hand-written protobuf wire-format parser.  It mirrors the pure
 * Python reader (lossctl/readers/tensorboard.py + tfrecord.py), which stays the reference:
 *
 *   - framing: uint64 length LE, uint32 masked crc32c(length bytes), payload, uint32 masked
 *     crc32c(payload); mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8;
 *   - a payload CRC mismatch is reported with the number of scalar points the damaged payload
 *     held (decoded, counted, dropped); a length CRC mismatch resynchronises on the next offset
 *     whose 12 header bytes carry a valid length CRC and whose record fits in the file;
 *   - an incomplete last record is reported as a truncated tail (lengths up to 2^64-1), unless a
 *     valid record follows it: then its length is wrong, reported, and skipped by resynchronising;
 *   - protobuf semantics follow upb (the runtime the Python reader uses): last value wins for
 *     singular fields, repeated embedded messages merge, a oneof member switch clears the
 *     previous member, wrong wire types are unknown fields, unknown fields are skipped by wire
 *     type (groups included, depth limit 100), proto3 strings must be valid UTF-8.  A CRC-valid
 *     record that fails to parse counts as "undecodable" and contributes nothing.
 *     Contents of sub-messages scalars never need (images, histograms, audio, graph defs, log
 *     messages, run metadata) are skipped by length without being parsed.
 *   - records holding a summary of TensorBoard's hparams plugin (add_hparams: one to three per
 *     run) are only located: their offsets are returned and the Python reader decodes those.
 *
 * The file is read with fopen/fread through a buffer of at most 16 MiB (a single record larger
 * than that gets a buffer of its own size), so memory stays bounded whatever the file size.
 * The GIL is released while scanning.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <nmmintrin.h>
#define LOSSCTL_X86_CRC 1
#endif

#define MAX_DEPTH 100               /* upb's default message/group nesting limit */
#define DEFAULT_BUF ((size_t)16 << 20)

/* ------------------------------------------------------------------------------------------ */
/* little-endian loads                                                                         */

static inline uint32_t ld_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t ld_u64(const uint8_t *p)
{
    return (uint64_t)ld_u32(p) | ((uint64_t)ld_u32(p + 4) << 32);
}

static inline uint16_t ld_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline float ld_f32(const uint8_t *p)
{
    uint32_t u = ld_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double ld_f64(const uint8_t *p)
{
    uint64_t u = ld_u64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static double half_to_double(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp((double)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp((double)(mant | 0x400), exp - 25);
    return sign ? -v : v;
}

static double bf16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return (double)f;
}

/* ------------------------------------------------------------------------------------------ */
/* CRC-32C (Castagnoli)                                                                        */

static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint32_t crc32c_sw(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {  /* slicing-by-8 on explicit little-endian loads: any host byte order */
        uint32_t lo = ld_u32(p) ^ crc, hi = ld_u32(p + 4);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#ifdef LOSSCTL_X86_CRC
/* x86 loads may be unaligned: no byte-wise prologue (records are short and start anywhere) */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t n)
{
    uint64_t crc = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        crc = _mm_crc32_u64(crc, w);
        p += 8;
        n -= 8;
    }
    uint32_t c = (uint32_t)crc;
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c = _mm_crc32_u32(c, w);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        c = _mm_crc32_u16(c, w);
        p += 2;
        n -= 2;
    }
    if (n)
        c = _mm_crc32_u8(c, *p);
    return ~c;
}
#endif

static uint32_t (*crc32c)(const uint8_t *, size_t) = crc32c_sw;
static int crc_hardware = 0;

static inline uint32_t masked_crc(const uint8_t *p, size_t n)
{
    uint32_t c = crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 validation (strict, as upb and Python's decoder: no overlongs, surrogates, > U+10FFFF) */

static int utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c < 0xC2) {
            return 0;
        } else if (c < 0xE0) {
            if (n - i < 2 || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c < 0xF0) {
            if (n - i < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return 0;
            if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F))
                return 0;
            i += 3;
        } else if (c < 0xF5) {
            if (n - i < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return 0;
            if ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* protobuf wire format                                                                        */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

static inline int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && !(*p & 0x80)) {  /* one-byte fast path */
        *out = *p;
        *pp = p + 1;
        return 1;
    }
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (p >= end)
            return 0;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            *pp = p;
            return 1;
        }
    }
    return 0;  /* more than 10 bytes */
}

/* A field key: at most 5 bytes, value within 32 bits (as upb); field number 0 is refused in
 * messages (get_key) but passes inside unknown groups, which upb skips without that check. */
static inline int get_raw_key(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (p >= end)
            return 0;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > 0xFFFFFFFFull)
                return 0;
            *field = (uint32_t)(v >> 3);
            *wt = (int)(v & 7);
            *pp = p;
            return 1;
        }
    }
    return 0;
}

static inline int get_key(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt)
{
    return get_raw_key(pp, end, field, wt) && *field != 0;
}

/* A length prefix; the sub-range must lie inside [p, end). */
static inline int get_len(const uint8_t **pp, const uint8_t *end, const uint8_t **sub_end)
{
    uint64_t n;
    if (!get_varint(pp, end, &n))
        return 0;
    if (n >= 0x7FFFFFFFull || n > (uint64_t)(end - *pp))
        return 0;
    *sub_end = *pp + n;
    return 1;
}

static const uint8_t *skip_field(const uint8_t *p, const uint8_t *end, int wt, uint32_t field,
                                 int depth);

static const uint8_t *skip_group(const uint8_t *p, const uint8_t *end, uint32_t field, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    while (p < end) {
        uint32_t f;
        int wt;
        if (!get_raw_key(&p, end, &f, &wt))
            return NULL;
        if (wt == WT_EGROUP)
            return f == field ? p : NULL;
        p = skip_field(p, end, wt, f, depth);
        if (!p)
            return NULL;
    }
    return NULL;  /* unterminated group */
}

/* Skip one field's value whose key was just read in a message at nesting ``depth``. */
static const uint8_t *skip_field(const uint8_t *p, const uint8_t *end, int wt, uint32_t field,
                                 int depth)
{
    uint64_t v;
    const uint8_t *e;
    switch (wt) {
    case WT_VARINT:
        return get_varint(&p, end, &v) ? p : NULL;
    case WT_I64:
        return end - p >= 8 ? p + 8 : NULL;
    case WT_LEN:
        return get_len(&p, end, &e) ? e : NULL;
    case WT_I32:
        return end - p >= 4 ? p + 4 : NULL;
    case WT_SGROUP:
        return skip_group(p, end, field, depth + 1);
    default:  /* an end-group outside its group, or wire types 6 and 7 */
        return NULL;
    }
}

/* Every element of a packed repeated varint field; first element to *first when asked. */
static int packed_varints(const uint8_t *p, const uint8_t *end, int *has, uint64_t *first)
{
    while (p < end) {
        uint64_t v;
        if (!get_varint(&p, end, &v))
            return 0;
        if (has && !*has) {
            *has = 1;
            *first = v;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* scanner state                                                                               */

typedef struct {
    char *name;
    size_t len;
    uint64_t hash;
    char *plugin;        /* committed plugin name (NULL: none seen) */
    size_t plugin_len;
    int is_scalars;
} Entry;

typedef struct {
    int32_t entry;
    const uint8_t *plugin;  /* points into the current record */
    size_t len;
} Pending;

typedef struct {
    int64_t point;
    int64_t step;
} Purge;

enum { DMG_PAYLOAD = 0, DMG_LENGTH_SKIP = 1, DMG_LENGTH_END = 2, DMG_LENGTH_PAST = 3 };

typedef struct {
    uint64_t offset;
    int kind;
    uint64_t skipped;
    int64_t lost;
    uint64_t length;  /* DMG_LENGTH_PAST: the length the header claims */
} Damage;

typedef struct {
    /* tags */
    Entry *entries;
    size_t n_entries, cap_entries;
    int32_t *slots;  /* open addressing, -1 = empty */
    size_t n_slots;
    /* points */
    int32_t *tag;
    int64_t *step;
    double *wall;
    double *value;
    size_t n, cap;
    /* per-record plugin updates, applied when the record is committed */
    Pending *pend;
    size_t n_pend, cap_pend;
    int rec_hparams;       /* the current record holds an hparams plugin summary */
    uint64_t *hp_at;       /* offsets of committed records that do */
    size_t n_hp, cap_hp;
    /* results */
    Purge *purges;
    size_t n_purges, cap_purges;
    Damage *damaged;
    size_t n_damaged, cap_damaged;
    int64_t truncated_at;  /* -1: none */
    uint64_t records, undecodable, size;
    uint64_t end;          /* where reading stopped: after the last complete record, or at the
                              truncated tail / unrecoverable damage (a follow-up scan resumes here) */
    int nomem;
} Scanner;

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

static inline uint64_t hash_bytes(const uint8_t *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    while (n--)
        h = (h ^ *s++) * 0x100000001b3ull;
    h ^= h >> 32;
    return h * 0x9E3779B97F4A7C15ull;
}

static int table_resize(Scanner *S, size_t n_slots)
{
    int32_t *slots = malloc(n_slots * sizeof(int32_t));
    if (!slots)
        return -1;
    memset(slots, 0xff, n_slots * sizeof(int32_t));
    for (size_t i = 0; i < S->n_entries; i++) {
        size_t j = (size_t)(S->entries[i].hash >> 20) & (n_slots - 1);
        while (slots[j] >= 0)
            j = (j + 1) & (n_slots - 1);
        slots[j] = (int32_t)i;
    }
    free(S->slots);
    S->slots = slots;
    S->n_slots = n_slots;
    return 0;
}

/* The entry of a tag (its bytes are valid UTF-8), created when new; -1 when out of memory. */
static int32_t entry_for(Scanner *S, const uint8_t *name, size_t len)
{
    uint64_t h = hash_bytes(name, len);
    size_t mask = S->n_slots - 1;
    size_t j = (size_t)(h >> 20) & mask;
    for (;;) {
        int32_t e = S->slots[j];
        if (e < 0)
            break;
        Entry *E = &S->entries[e];
        if (E->hash == h && E->len == len && same_bytes((const uint8_t *)E->name, name, len))
            return e;
        j = (j + 1) & mask;
    }
    if (S->n_entries >= 0x7FFFFFFF ||
        grow((void **)&S->entries, &S->cap_entries, S->n_entries + 1, sizeof(Entry))) {
        S->nomem = 1;
        return -1;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        S->nomem = 1;
        return -1;
    }
    memcpy(copy, name, len);
    int32_t e = (int32_t)S->n_entries++;
    Entry *E = &S->entries[e];
    E->name = copy;
    E->len = len;
    E->hash = h;
    E->plugin = NULL;
    E->plugin_len = 0;
    E->is_scalars = 0;
    S->slots[j] = e;
    if (S->n_entries * 2 > S->n_slots && table_resize(S, S->n_slots * 2)) {
        S->nomem = 1;
        return -1;
    }
    return e;
}

static int set_plugin(Scanner *S, Entry *E, const uint8_t *plugin, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        S->nomem = 1;
        return -1;
    }
    memcpy(copy, plugin, len);
    free(E->plugin);
    E->plugin = copy;
    E->plugin_len = len;
    E->is_scalars = (len == 7 && memcmp(plugin, "scalars", 7) == 0);
    return 0;
}

/* Does a tensor value of this tag count as a scalar? (plugin "scalars", or none seen yet) */
static int scalar_plugin(const Scanner *S, int32_t e)
{
    for (size_t i = S->n_pend; i-- > 0;)
        if (S->pend[i].entry == e)
            return S->pend[i].len == 7 && memcmp(S->pend[i].plugin, "scalars", 7) == 0;
    const Entry *E = &S->entries[e];
    return E->plugin ? E->is_scalars : 1;
}

static inline int emit(Scanner *S, int32_t e, double v)
{
    if (S->n == S->cap) {
        size_t cap = S->cap ? S->cap * 2 : 4096;
        int32_t *t = realloc(S->tag, cap * sizeof(int32_t));
        if (t)
            S->tag = t;
        int64_t *s = t ? realloc(S->step, cap * sizeof(int64_t)) : NULL;
        if (s)
            S->step = s;
        double *w = s ? realloc(S->wall, cap * sizeof(double)) : NULL;
        if (w)
            S->wall = w;
        double *x = w ? realloc(S->value, cap * sizeof(double)) : NULL;
        if (!x) {
            S->nomem = 1;
            return -1;
        }
        S->value = x;
        S->cap = cap;
    }
    S->tag[S->n] = e;
    S->value[S->n] = v;
    S->n++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* tensorflow messages                                                                         */

typedef struct {
    int32_t dtype;
    int bad_shape;
    const uint8_t *content;
    size_t content_len;
    int has_f, has_d, has_i, has_q, has_b, has_h;
    float f;
    double d;
    uint64_t i, q, b, h;
} Tensor;

#define NEXT_KEY(p, end, f, wt)                                                                \
    uint32_t f;                                                                                \
    int wt;                                                                                    \
    if (!get_key(&p, end, &f, &wt))                                                            \
        return -1;

#define SKIP(p, end, wt, f, depth)                                                             \
    do {                                                                                       \
        p = skip_field(p, end, wt, f, depth);                                                  \
        if (!p)                                                                                \
            return -1;                                                                         \
    } while (0)

/* A proto3 string field: valid UTF-8 (value returned through *s / *n when wanted). */
static inline int take_string(const uint8_t **pp, const uint8_t *end, const uint8_t **s, size_t *n)
{
    const uint8_t *e;
    if (!get_len(pp, end, &e))
        return 0;
    if (!utf8_valid(*pp, (size_t)(e - *pp)))
        return 0;
    if (s) {
        *s = *pp;
        *n = (size_t)(e - *pp);
    }
    *pp = e;
    return 1;
}

/* Messages scalars never need are still checked the way upb parses them (so that a record is
 * undecodable in exactly the cases the Python reader finds it so), without keeping anything:
 * wire structure, UTF-8 of strings, lengths of packed fields.  Bytes fields (image and audio
 * data, graph defs) are skipped by their length.  Bit k of a mask names field number k. */
typedef struct Schema Schema;
struct Schema {
    uint32_t strings;    /* proto3 string fields */
    uint32_t packed32;   /* repeated float / fixed32 (packed encoding allowed) */
    uint32_t packed64;   /* repeated double / fixed64 */
    uint32_t packedvar;  /* repeated varint types */
    const Schema *sub[20];  /* embedded message fields */
};

static const Schema IMAGE_S = {0};
static const Schema HISTO_S = {.packed64 = 1u << 6 | 1u << 7};  /* bucket_limit, bucket */
static const Schema AUDIO_S = {.strings = 1u << 5};             /* content_type */
static const Schema LOG_S = {.strings = 1u << 2};               /* LogMessage.message */
static const Schema TAGGED_S = {.strings = 1u << 1};            /* TaggedRunMetadata.tag */
static const Schema SOURCE_S = {.strings = 1u << 1};            /* SourceMetadata.writer */
static const Schema DIM_S = {.strings = 1u << 2};
static const Schema SHAPE_S = {.sub = {[2] = &DIM_S}};
static const Schema DTYPE_SHAPE_S = {.sub = {[2] = &SHAPE_S}};
static const Schema HANDLE_S = {.strings = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 5,
                                .sub = {[6] = &DTYPE_SHAPE_S}};
static const Schema VARIANT_S;
static const Schema TENSOR_S = {
    .packed32 = 1u << 5 | 1u << 9,
    .packed64 = 1u << 6 | 1u << 12,
    .packedvar = 1u << 7 | 1u << 10 | 1u << 11 | 1u << 13 | 1u << 16 | 1u << 17,
    .sub = {[2] = &SHAPE_S, [14] = &HANDLE_S, [15] = &VARIANT_S},
};
static const Schema VARIANT_S = {.strings = 1u << 1, .sub = {[3] = &TENSOR_S}};

/* Check one message at nesting ``depth`` against its schema. */
static int check_msg(const uint8_t *p, const uint8_t *end, const Schema *sc, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (wt == WT_LEN && f < 32) {
            uint32_t bit = 1u << f;
            const uint8_t *e;
            if (sc->strings & bit) {
                if (!take_string(&p, end, NULL, NULL))
                    return -1;
                continue;
            }
            if (!get_len(&p, end, &e))
                return -1;
            if (((sc->packed32 & bit) && (e - p) % 4) || ((sc->packed64 & bit) && (e - p) % 8) ||
                ((sc->packedvar & bit) && !packed_varints(p, e, NULL, NULL)) ||
                (f < 20 && sc->sub[f] && check_msg(p, e, sc->sub[f], depth + 1)))
                return -1;
            p = e;
            continue;
        }
        SKIP(p, end, wt, f, depth);  /* scalars: skipping reads them as parsing would */
    }
    return 0;
}

/* message with only string fields listed in mask (bit k = field k) and a status: SessionLog */
static int parse_strings(const uint8_t *p, const uint8_t *end, unsigned mask, int32_t *status,
                         int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f < 32 && (mask >> f) & 1 && wt == WT_LEN) {
            if (!take_string(&p, end, NULL, NULL))
                return -1;
            continue;
        }
        if (status && f == 1 && wt == WT_VARINT) {
            uint64_t v;
            if (!get_varint(&p, end, &v))
                return -1;
            *status = (int32_t)(uint32_t)v;
            continue;
        }
        SKIP(p, end, wt, f, depth);
    }
    return 0;
}

/* TensorShapeProto.Dim: size (1, int64), name (2, string) */
static int parse_dim(Tensor *t, const uint8_t *p, const uint8_t *end, int depth)
{
    int64_t size = 0;
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 1 && wt == WT_VARINT) {
            uint64_t v;
            if (!get_varint(&p, end, &v))
                return -1;
            size = (int64_t)v;
        } else if (f == 2 && wt == WT_LEN) {
            if (!take_string(&p, end, NULL, NULL))
                return -1;
        } else {
            SKIP(p, end, wt, f, depth);
        }
    }
    if (size != 1)
        t->bad_shape = 1;
    return 0;
}

/* TensorShapeProto: dim (2, repeated Dim), unknown_rank (3, bool) */
static int parse_shape(Tensor *t, const uint8_t *p, const uint8_t *end, int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 2 && wt == WT_LEN) {
            const uint8_t *e;
            if (!get_len(&p, end, &e) || parse_dim(t, p, e, depth + 1))
                return -1;
            p = e;
        } else {
            SKIP(p, end, wt, f, depth);
        }
    }
    return 0;
}

/* TensorProto (merged into *t: repeated fields append, singular fields: last wins) */
static int parse_tensor(Tensor *t, const uint8_t *p, const uint8_t *end, int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        const uint8_t *e;
        uint64_t v;
        switch (f) {
        case 1:  /* dtype */
            if (wt != WT_VARINT)
                break;
            if (!get_varint(&p, end, &v))
                return -1;
            t->dtype = (int32_t)(uint32_t)v;
            continue;
        case 2:  /* tensor_shape */
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e) || parse_shape(t, p, e, depth + 1))
                return -1;
            p = e;
            continue;
        case 4:  /* tensor_content */
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e))
                return -1;
            t->content = p;
            t->content_len = (size_t)(e - p);
            p = e;
            continue;
        case 5:  /* float_val */
        case 9:  /* scomplex_val */
            if (wt == WT_I32) {
                if (end - p < 4)
                    return -1;
                if (f == 5 && !t->has_f) {
                    t->has_f = 1;
                    t->f = ld_f32(p);
                }
                p += 4;
                continue;
            }
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e) || (e - p) % 4)
                return -1;
            if (f == 5 && !t->has_f && e - p >= 4) {
                t->has_f = 1;
                t->f = ld_f32(p);
            }
            p = e;
            continue;
        case 6:  /* double_val */
        case 12: /* dcomplex_val */
            if (wt == WT_I64) {
                if (end - p < 8)
                    return -1;
                if (f == 6 && !t->has_d) {
                    t->has_d = 1;
                    t->d = ld_f64(p);
                }
                p += 8;
                continue;
            }
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e) || (e - p) % 8)
                return -1;
            if (f == 6 && !t->has_d && e - p >= 8) {
                t->has_d = 1;
                t->d = ld_f64(p);
            }
            p = e;
            continue;
        case 3:  /* version_number */
        case 7:  /* int_val */
        case 10: /* int64_val */
        case 11: /* bool_val */
        case 13: /* half_val */
        case 16: /* uint32_val */
        case 17: /* uint64_val */ {
            int *has = f == 7 ? &t->has_i : f == 10 ? &t->has_q : f == 11 ? &t->has_b
                     : f == 13 ? &t->has_h : NULL;
            uint64_t *first = f == 7 ? &t->i : f == 10 ? &t->q : f == 11 ? &t->b
                            : f == 13 ? &t->h : NULL;
            if (wt == WT_VARINT) {
                if (!get_varint(&p, end, &v))
                    return -1;
                if (has && !*has) {
                    *has = 1;
                    *first = v;
                }
                continue;
            }
            if (wt != WT_LEN || f == 3)
                break;
            if (!get_len(&p, end, &e) || !packed_varints(p, e, has, first))
                return -1;
            p = e;
            continue;
        }
        case 14: /* resource_handle_val */
        case 15: /* variant_val */
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e) || check_msg(p, e, f == 14 ? &HANDLE_S : &VARIANT_S, depth + 1))
                return -1;
            p = e;
            continue;
        default:
            break;
        }
        SKIP(p, end, wt, f, depth);
    }
    return 0;
}

/* The value of a rank-0 numeric tensor, as the Python reader's _tensor_scalar computes it. */
static int tensor_value(const Tensor *t, double *out)
{
    size_t need;
    if (t->bad_shape)
        return 0;
    switch (t->dtype) {
    case 1: case 3: need = 4; break;        /* float, int32 */
    case 2: case 9: need = 8; break;        /* double, int64 */
    case 19: case 5: case 14: need = 2; break;  /* half, int16, bfloat16 */
    case 4: case 6: case 10: need = 1; break;   /* uint8, int8, bool */
    default: return 0;
    }
    if (t->content_len) {
        const uint8_t *c = t->content;
        if (t->content_len != need)
            return 0;
        switch (t->dtype) {
        case 1: *out = (double)ld_f32(c); break;
        case 2: *out = ld_f64(c); break;
        case 3: *out = (double)(int32_t)ld_u32(c); break;
        case 9: *out = (double)(int64_t)ld_u64(c); break;
        case 19: *out = half_to_double(ld_u16(c)); break;
        case 14: *out = bf16_to_double(ld_u16(c)); break;
        case 4: *out = (double)c[0]; break;
        case 5: *out = (double)(int16_t)ld_u16(c); break;
        case 6: *out = (double)(int8_t)c[0]; break;
        default: *out = c[0] ? 1.0 : 0.0; break;  /* bool */
        }
        return 1;
    }
    if (t->has_f) *out = (double)t->f;
    else if (t->has_d) *out = t->d;
    else if (t->has_i) *out = (double)(int32_t)(uint32_t)t->i;
    else if (t->has_q) *out = (double)(int64_t)t->q;
    else if (t->has_b) *out = t->b ? 1.0 : 0.0;
    else if (t->has_h) {
        uint16_t bits = (uint16_t)(t->h & 0xFFFF);
        *out = t->dtype == 14 ? bf16_to_double(bits) : half_to_double(bits);
    } else
        return 0;
    return 1;
}

/* SummaryMetadata.PluginData: plugin_name (1, string), content (2, bytes) */
static int parse_plugin_data(const uint8_t *p, const uint8_t *end, const uint8_t **name,
                             size_t *len, int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 1 && wt == WT_LEN) {
            if (!take_string(&p, end, name, len))
                return -1;
        } else {
            SKIP(p, end, wt, f, depth);
        }
    }
    return 0;
}

/* SummaryMetadata: plugin_data (1), display_name (2), summary_description (3), data_class (4) */
static int parse_metadata(const uint8_t *p, const uint8_t *end, const uint8_t **name, size_t *len,
                          int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 1 && wt == WT_LEN) {
            const uint8_t *e;
            if (!get_len(&p, end, &e) || parse_plugin_data(p, e, name, len, depth + 1))
                return -1;
            p = e;
        } else if ((f == 2 || f == 3) && wt == WT_LEN) {
            if (!take_string(&p, end, NULL, NULL))
                return -1;
        } else {
            SKIP(p, end, wt, f, depth);
        }
    }
    return 0;
}

/* Summary.Value: tag (1), simple_value (2), histo/image/... (3-6), node_name (7), tensor (8),
 * metadata (9).  Emits the point (tentatively) when the value is a scalar. */
static int parse_value(Scanner *S, const uint8_t *p, const uint8_t *end, int depth)
{
    const uint8_t *tag = (const uint8_t *)"", *plugin = NULL;
    size_t tag_len = 0, plugin_len = 0;
    int has_meta = 0;
    uint32_t kind = 0;
    float simple = 0;
    Tensor t;
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        const uint8_t *e;
        switch (f) {
        case 1:
            if (wt != WT_LEN)
                break;
            if (!take_string(&p, end, &tag, &tag_len))
                return -1;
            continue;
        case 2:
            if (wt != WT_I32)
                break;
            if (end - p < 4)
                return -1;
            simple = ld_f32(p);
            p += 4;
            kind = 2;
            continue;
        case 3: case 4: case 5: case 6:  /* old histogram (bytes), image, histo, audio */
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e))
                return -1;
            if (f != 3 && check_msg(p, e, f == 4 ? &IMAGE_S : f == 5 ? &HISTO_S : &AUDIO_S, depth + 1))
                return -1;
            p = e;
            kind = f;
            continue;
        case 7:
            if (wt != WT_LEN)
                break;
            if (!take_string(&p, end, NULL, NULL))
                return -1;
            continue;
        case 8:
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e))
                return -1;
            if (kind != 8) {  /* entering the oneof member afresh */
                memset(&t, 0, sizeof t);
                kind = 8;
            }
            if (parse_tensor(&t, p, e, depth + 1))
                return -1;
            p = e;
            continue;
        case 9:
            if (wt != WT_LEN)
                break;
            if (!get_len(&p, end, &e) || parse_metadata(p, e, &plugin, &plugin_len, depth + 1))
                return -1;
            has_meta = 1;
            p = e;
            continue;
        default:
            break;
        }
        SKIP(p, end, wt, f, depth);
    }
    if (has_meta && plugin_len == 7 && memcmp(plugin, "hparams", 7) == 0)
        S->rec_hparams = 1;  /* located only: the Python reader decodes these few records */
    if (kind == 2) {
        int32_t e = entry_for(S, tag, tag_len);
        return (e < 0 || emit(S, e, (double)simple)) ? -1 : 0;
    }
    if (kind == 8) {
        int32_t e = entry_for(S, tag, tag_len);
        if (e < 0)
            return -1;
        if (has_meta && plugin_len) {
            if (grow((void **)&S->pend, &S->cap_pend, S->n_pend + 1, sizeof(Pending))) {
                S->nomem = 1;
                return -1;
            }
            S->pend[S->n_pend].entry = e;
            S->pend[S->n_pend].plugin = plugin;
            S->pend[S->n_pend].len = plugin_len;
            S->n_pend++;
        }
        double v;
        if (scalar_plugin(S, e) && tensor_value(&t, &v))
            return emit(S, e, v);
    }
    return 0;
}

static int parse_summary(Scanner *S, const uint8_t *p, const uint8_t *end, int depth)
{
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 1 && wt == WT_LEN) {
            const uint8_t *e;
            if (!get_len(&p, end, &e) || parse_value(S, p, e, depth + 1))
                return -1;
            p = e;
        } else {
            SKIP(p, end, wt, f, depth);
        }
    }
    return 0;
}

typedef struct {
    double wall;
    int64_t step;
    uint32_t what;   /* the oneof member set last (field number), 0 = none */
    int32_t status;  /* SessionLog.status */
} EventInfo;

/* tensorflow.Event.  Scalar points are appended to S from index S->n (tentatively: the caller
 * commits or rolls back); returns -1 when the payload is not a valid Event. */
static int parse_event(Scanner *S, const uint8_t *p, const uint8_t *end, EventInfo *ev)
{
    size_t start = S->n;
    ev->wall = 0;
    ev->step = 0;
    ev->what = 0;
    ev->status = 0;
    while (p < end) {
        NEXT_KEY(p, end, f, wt);
        if (f == 1 && wt == WT_I64) {
            if (end - p < 8)
                return -1;
            ev->wall = ld_f64(p);
            p += 8;
            continue;
        }
        if (f == 2 && wt == WT_VARINT) {
            uint64_t v;
            if (!get_varint(&p, end, &v))
                return -1;
            ev->step = (int64_t)v;
            continue;
        }
        if (f >= 3 && f <= 10 && wt == WT_LEN) {
            const uint8_t *e;
            if (!get_len(&p, end, &e))
                return -1;
            if (f != 10 && ev->what != f) {  /* oneof "what": the previous member is cleared */
                if (ev->what == 5) {
                    S->n = start;
                    S->n_pend = 0;
                    S->rec_hparams = 0;
                }
                ev->what = f;
                ev->status = 0;
            }
            int r = 0;
            if (f == 3)  /* file_version */
                r = utf8_valid(p, (size_t)(e - p)) ? 0 : -1;
            else if (f == 5)
                r = parse_summary(S, p, e, 1);
            else if (f == 7)  /* SessionLog: status, checkpoint_path, msg */
                r = parse_strings(p, e, (1u << 2) | (1u << 3), &ev->status, 1);
            else if (f == 6 || f == 8 || f == 10)  /* LogMessage, TaggedRunMetadata, SourceMetadata */
                r = check_msg(p, e, f == 6 ? &LOG_S : f == 8 ? &TAGGED_S : &SOURCE_S, 1);
            if (r)
                return -1;
            p = e;
            continue;
        }
        SKIP(p, end, wt, f, 0);
    }
    return 0;
}

/* A record that passed its CRC (or verify is off). */
static void take_record(Scanner *S, const uint8_t *p, size_t n, uint64_t offset)
{
    size_t start = S->n;
    EventInfo ev;
    S->n_pend = 0;
    S->rec_hparams = 0;
    S->records++;
    if (parse_event(S, p, p + n, &ev)) {
        S->n = start;
        S->n_pend = 0;
        if (!S->nomem)
            S->undecodable++;
        return;
    }
    for (size_t i = start; i < S->n; i++) {
        S->step[i] = ev.step;
        S->wall[i] = ev.wall;
    }
    for (size_t i = 0; i < S->n_pend; i++)
        if (set_plugin(S, &S->entries[S->pend[i].entry], S->pend[i].plugin, S->pend[i].len))
            return;
    S->n_pend = 0;
    if (S->rec_hparams) {
        if (grow((void **)&S->hp_at, &S->cap_hp, S->n_hp + 1, sizeof(uint64_t))) {
            S->nomem = 1;
            return;
        }
        S->hp_at[S->n_hp++] = offset;
    }
    if (ev.what == 7 && ev.status == 1) {  /* SessionLog.START */
        if (grow((void **)&S->purges, &S->cap_purges, S->n_purges + 1, sizeof(Purge))) {
            S->nomem = 1;
            return;
        }
        S->purges[S->n_purges].point = (int64_t)S->n;
        S->purges[S->n_purges].step = ev.step;
        S->n_purges++;
    }
}

/* How many scalar points a damaged payload held (0 when it does not parse); nothing kept. */
static int64_t count_points(Scanner *S, const uint8_t *p, size_t n)
{
    size_t start = S->n;
    EventInfo ev;
    S->n_pend = 0;
    int r = parse_event(S, p, p + n, &ev);
    int64_t lost = r ? 0 : (int64_t)(S->n - start);
    S->n = start;
    S->n_pend = 0;
    S->rec_hparams = 0;
    return lost;
}

static void add_damage(Scanner *S, uint64_t offset, int kind, uint64_t skipped, int64_t lost,
                       uint64_t length)
{
    if (grow((void **)&S->damaged, &S->cap_damaged, S->n_damaged + 1, sizeof(Damage))) {
        S->nomem = 1;
        return;
    }
    Damage *d = &S->damaged[S->n_damaged++];
    d->offset = offset;
    d->kind = kind;
    d->skipped = skipped;
    d->lost = lost;
    d->length = length;
}

/* ------------------------------------------------------------------------------------------ */
/* chunked file input                                                                          */

typedef struct {
    FILE *f;
    uint64_t size;  /* bytes to read (the size when opened; less if the file shrinks) */
    uint8_t *buf;
    size_t cap;
    uint64_t base;  /* file offset of buf[0] */
    size_t len;     /* valid bytes in buf */
    size_t chunk;   /* usual buffer size (DEFAULT_BUF; tests use tiny ones) */
    int err;        /* errno of a failed read */
    int nomem;
} Stream;

/* Make file bytes [pos, pos + n) available (base <= pos <= base + len); NULL on a read error,
 * out of memory or when the file ended early. */
static const uint8_t *fetch(Stream *s, uint64_t pos, size_t n)
{
    uint64_t have_end = s->base + s->len;
    if (pos + n <= have_end)
        return s->buf + (pos - s->base);
    size_t keep = (size_t)(have_end - pos);  /* < n */
    if (keep && pos != s->base)
        memmove(s->buf, s->buf + (pos - s->base), keep);
    s->base = pos;
    s->len = keep;
    size_t target = s->chunk;
    uint64_t left = s->size > pos ? s->size - pos : 0;
    if (left < target)
        target = (size_t)left;
    if (target < n)
        target = n;
    if (target > s->cap || (s->cap > s->chunk && target <= s->chunk)) {
        uint8_t *b = realloc(s->buf, target ? target : 1);
        if (!b) {
            s->nomem = 1;
            return NULL;
        }
        s->buf = b;
        s->cap = target;
    }
    while (s->len < s->cap) {
        uint64_t remain = s->size - (s->base + s->len);
        if (!remain)
            break;
        size_t want = s->cap - s->len;
        if (want > remain)
            want = (size_t)remain;
        size_t got = fread(s->buf + s->len, 1, want, s->f);
        s->len += got;
        if (got < want) {
            if (ferror(s->f)) {
                s->err = errno ? errno : EIO;
                return NULL;
            }
            s->size = s->base + s->len;  /* the file shrank while being read */
            break;
        }
    }
    return s->len >= n ? s->buf : NULL;
}

/* Next offset >= start whose 12 bytes are a header with a valid length CRC and whose record
 * fits in the file; -1 when there is none, -2 on a read error. */
static int64_t resync(Stream *s, uint64_t start)
{
    for (uint64_t pos = start; s->size >= 12 && pos <= s->size - 12; pos++) {
        const uint8_t *h = fetch(s, pos, 12);
        if (!h)
            return (s->err || s->nomem) ? -2 : -1;
        if (masked_crc(h, 8) == ld_u32(h + 8)) {
            uint64_t length = ld_u64(h), room = s->size - pos - 12;
            if (room >= 4 && length <= room - 4)
                return (int64_t)pos;
        }
    }
    return -1;
}

static void scan_stream(Scanner *S, Stream *s, int verify, uint64_t offset)
{
    S->end = offset;
    while (offset < s->size && !S->nomem) {
        S->end = offset;
        if (s->size - offset < 12) {
            S->truncated_at = (int64_t)offset;
            return;
        }
        const uint8_t *h = fetch(s, offset, 12);
        if (!h) {
            if (!s->err && !s->nomem)
                S->truncated_at = (int64_t)offset;
            return;
        }
        uint64_t length = ld_u64(h);
        if (verify && masked_crc(h, 8) != ld_u32(h + 8)) {
            int64_t next = resync(s, offset + 1);
            if (next == -2)
                return;
            if (next < 0) {
                add_damage(S, offset, DMG_LENGTH_END, 0, -1, 0);
                return;
            }
            add_damage(S, offset, DMG_LENGTH_SKIP, (uint64_t)next - offset, -1, 0);
            offset = (uint64_t)next;
            continue;
        }
        uint64_t room = s->size - offset - 12;
        if (room < 4 || length > room - 4) {
            /* a truncated tail, unless a record follows: then the length itself is wrong */
            int64_t next = resync(s, offset + 1);
            if (next == -2)
                return;
            if (next < 0) {
                S->truncated_at = (int64_t)offset;
                return;
            }
            add_damage(S, offset, DMG_LENGTH_PAST, (uint64_t)next - offset, -1, length);
            offset = (uint64_t)next;
            continue;
        }
        if (length > SIZE_MAX - 16) {
            S->nomem = 1;
            return;
        }
        size_t total = (size_t)length + 16;
        const uint8_t *r = fetch(s, offset, total);
        if (!r) {
            if (!s->err && !s->nomem)
                S->truncated_at = (int64_t)offset;
            return;
        }
        const uint8_t *payload = r + 12;
        if (verify && masked_crc(payload, (size_t)length) != ld_u32(payload + length))
            add_damage(S, offset, DMG_PAYLOAD, 0, count_points(S, payload, (size_t)length), 0);
        else
            take_record(S, payload, (size_t)length, offset);
        offset += total;
        S->end = offset;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Python interface                                                                            */

static void scanner_free(Scanner *S)
{
    for (size_t i = 0; i < S->n_entries; i++) {
        free(S->entries[i].name);
        free(S->entries[i].plugin);
    }
    free(S->entries);
    free(S->slots);
    free(S->tag);
    free(S->step);
    free(S->wall);
    free(S->value);
    free(S->pend);
    free(S->hp_at);
    free(S->purges);
    free(S->damaged);
}

static int seek_to(FILE *f, uint64_t pos)
{
#ifdef _WIN32
    return _fseeki64(f, (__int64)pos, SEEK_SET);
#else
    return fseeko(f, (off_t)pos, SEEK_SET);
#endif
}

static FILE *open_file(PyObject *path, uint64_t *size, int *err)
{
    FILE *f;
#ifdef _WIN32
    wchar_t *wpath = PyUnicode_AsWideCharString(path, NULL);
    if (!wpath)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    f = _wfopen(wpath, L"rb");
    *err = errno;
    Py_END_ALLOW_THREADS
    PyMem_Free(wpath);
#else
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(path, &bytes))
        return NULL;
    const char *cpath = PyBytes_AS_STRING(bytes);
    Py_BEGIN_ALLOW_THREADS
    f = fopen(cpath, "rb");
    *err = errno;
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
#endif
    if (!f) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        return NULL;
    }
#ifdef _WIN32
    struct _stat64 st;
    int rc = _fstat64(_fileno(f), &st);
#else
    struct stat st;
    int rc = fstat(fileno(f), &st);
#endif
    if (rc != 0 || (st.st_mode & S_IFMT) == S_IFDIR) {
        errno = rc != 0 ? errno : EISDIR;
        fclose(f);
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        return NULL;
    }
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    setvbuf(f, NULL, _IONBF, 0);  /* we read in large chunks into our own buffer */
    return f;
}

/* A writable buffer owning malloc'd memory: the point arrays are handed to numpy without a copy. */
typedef struct {
    PyObject_HEAD
    void *data;
    Py_ssize_t len;
} Buffer;

static int buffer_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    Buffer *b = (Buffer *)self;
    return PyBuffer_FillInfo(view, self, b->data, b->len, 0, flags);
}

static void buffer_dealloc(PyObject *self)
{
    free(((Buffer *)self)->data);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs buffer_procs = {.bf_getbuffer = buffer_getbuffer};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "lossctl.readers._scan.Buffer",
    .tp_basicsize = sizeof(Buffer),
    .tp_dealloc = buffer_dealloc,
    .tp_as_buffer = &buffer_procs,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory of one point array (use with numpy.frombuffer or memoryview).",
};

/* A Buffer taking over *data (n elements of elem bytes); *data is NULL afterwards. */
static PyObject *take_buffer(void **data, size_t n, size_t elem)
{
    Buffer *b = PyObject_New(Buffer, &BufferType);
    if (!b)
        return NULL;
    void *mem = *data;
    if (mem && n) {
        void *shrunk = realloc(mem, n * elem);  /* give back the unused growth room */
        if (shrunk)
            mem = shrunk;
    } else {
        free(mem);
        mem = malloc(1);
        if (!mem) {
            Py_DECREF(b);
            return PyErr_NoMemory();
        }
    }
    *data = NULL;
    b->data = mem;
    b->len = (Py_ssize_t)(n * elem);
    return (PyObject *)b;
}

static PyObject *build_result(Scanner *S, PyObject *plugins)
{
    PyObject *tags = NULL, *purges = NULL, *damaged = NULL, *hp_at = NULL, *res = NULL;
    PyObject *a_tag = NULL, *a_step = NULL, *a_wall = NULL, *a_value = NULL;

    /* only tags that have points, in first-seen order; codes remapped */
    int32_t *remap = malloc((S->n_entries ? S->n_entries : 1) * sizeof(int32_t));
    if (!remap)
        return PyErr_NoMemory();
    for (size_t i = 0; i < S->n_entries; i++)
        remap[i] = -1;
    size_t used = 0;
    for (size_t i = 0; i < S->n; i++) {
        int32_t e = S->tag[i];
        if (remap[e] < 0)
            remap[e] = (int32_t)used++;
        S->tag[i] = remap[e];
    }
    /* write the plugin state back for the next file of the run */
    for (size_t i = 0; i < S->n_entries; i++) {
        Entry *E = &S->entries[i];
        if (!E->plugin)
            continue;
        PyObject *k = PyUnicode_DecodeUTF8(E->name, (Py_ssize_t)E->len, "strict");
        PyObject *v = k ? PyUnicode_DecodeUTF8(E->plugin, (Py_ssize_t)E->plugin_len, "strict") : NULL;
        int rc = v ? PyDict_SetItem(plugins, k, v) : -1;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (rc) {
            free(remap);
            return NULL;
        }
    }
    tags = PyList_New((Py_ssize_t)used);
    if (!tags)
        goto fail;
    for (size_t i = 0; i < S->n_entries; i++) {
        if (remap[i] < 0)
            continue;
        PyObject *s = PyUnicode_DecodeUTF8(S->entries[i].name, (Py_ssize_t)S->entries[i].len, "strict");
        if (!s)
            goto fail;
        PyList_SET_ITEM(tags, remap[i], s);
    }
    purges = PyList_New((Py_ssize_t)S->n_purges);
    if (!purges)
        goto fail;
    for (size_t i = 0; i < S->n_purges; i++) {
        PyObject *t = Py_BuildValue("(LL)", (long long)S->purges[i].point, (long long)S->purges[i].step);
        if (!t)
            goto fail;
        PyList_SET_ITEM(purges, (Py_ssize_t)i, t);
    }
    damaged = PyList_New((Py_ssize_t)S->n_damaged);
    if (!damaged)
        goto fail;
    for (size_t i = 0; i < S->n_damaged; i++) {
        Damage *d = &S->damaged[i];
        PyObject *problem;
        if (d->kind == DMG_PAYLOAD)
            problem = PyUnicode_FromString("payload CRC mismatch");
        else if (d->kind == DMG_LENGTH_SKIP)
            problem = PyUnicode_FromFormat("length CRC mismatch; skipped %llu bytes to the next record",
                                           (unsigned long long)d->skipped);
        else if (d->kind == DMG_LENGTH_PAST)
            problem = PyUnicode_FromFormat("length %llu runs past the end of the file; skipped %llu bytes "
                                           "to the next record", (unsigned long long)d->length,
                                           (unsigned long long)d->skipped);
        else
            problem = PyUnicode_FromString("length CRC mismatch; no further record found");
        if (!problem)
            goto fail;
        PyObject *t = Py_BuildValue("(KNL)", (unsigned long long)d->offset, problem, (long long)d->lost);
        if (!t)
            goto fail;
        PyList_SET_ITEM(damaged, (Py_ssize_t)i, t);
    }
    hp_at = PyList_New((Py_ssize_t)S->n_hp);
    if (!hp_at)
        goto fail;
    for (size_t i = 0; i < S->n_hp; i++) {
        PyObject *o = PyLong_FromUnsignedLongLong((unsigned long long)S->hp_at[i]);
        if (!o)
            goto fail;
        PyList_SET_ITEM(hp_at, (Py_ssize_t)i, o);
    }
    a_tag = take_buffer((void **)&S->tag, S->n, sizeof(int32_t));
    a_step = a_tag ? take_buffer((void **)&S->step, S->n, sizeof(int64_t)) : NULL;
    a_wall = a_step ? take_buffer((void **)&S->wall, S->n, sizeof(double)) : NULL;
    a_value = a_wall ? take_buffer((void **)&S->value, S->n, sizeof(double)) : NULL;
    if (!a_value)
        goto fail;
    PyObject *trunc;
    if (S->truncated_at >= 0)
        trunc = PyLong_FromLongLong(S->truncated_at);
    else {
        trunc = Py_None;
        Py_INCREF(trunc);
    }
    if (!trunc)
        goto fail;
    res = Py_BuildValue("(NNNNNNNNKKKKN)", tags, a_tag, a_step, a_wall, a_value, purges, damaged, trunc,
                        (unsigned long long)S->records, (unsigned long long)S->undecodable,
                        (unsigned long long)S->size, (unsigned long long)S->end, hp_at);
    free(remap);
    return res;  /* Py_BuildValue "N" stole every reference, even on failure */
fail:
    free(remap);
    Py_XDECREF(tags);
    Py_XDECREF(purges);
    Py_XDECREF(damaged);
    Py_XDECREF(hp_at);
    Py_XDECREF(a_tag);
    Py_XDECREF(a_step);
    Py_XDECREF(a_wall);
    Py_XDECREF(a_value);
    return NULL;
}

PyDoc_STRVAR(scan_doc,
"scan(path, verify, plugins, buffer_size=16 MiB, start=0) -> (tags, codes, steps, walls, values,\n"
"                                purges, damaged, truncated_at, records, undecodable, size, end,\n"
"                                hparams_at)\n\n"
"Read every scalar of a TensorBoard event file.  ``tags``: list of str (first-seen order);\n"
"``codes`` (int32), ``steps`` (int64), ``walls`` and ``values`` (float64): writable buffers, one\n"
"element per point, ``codes`` indexing ``tags``; ``purges``: [(point_index, step)] of each\n"
"SessionLog.START; ``damaged``: [(byte_offset, problem, points_lost or -1)]; ``truncated_at``:\n"
"offset of an incomplete last record or None; ``records``: good records; ``undecodable``:\n"
"records that passed the CRC but are not events; ``size``: file size.  ``plugins`` (tag ->\n"
"plugin name) is read and updated.  ``buffer_size`` (tests): the usual read buffer; a record\n"
"larger than it gets a buffer of its own size.  ``start``: byte offset of the first record to\n"
"read (a record boundary; 0 = the whole file).  ``end``: the offset after the last complete\n"
"record (at the truncated tail, or at damage with no record after it): where to resume.\n"
"``hparams_at``: byte offsets of the records holding a TensorBoard hparams plugin summary.\n"
"Raises OSError when the file cannot be read.");

static PyObject *py_scan(PyObject *self, PyObject *args)
{
    PyObject *path, *plugins;
    int verify;
    Py_ssize_t chunk = 0;
    unsigned long long start = 0;
    if (!PyArg_ParseTuple(args, "UpO!|nK:scan", &path, &verify, &PyDict_Type, &plugins, &chunk, &start))
        return NULL;

    Scanner S;
    memset(&S, 0, sizeof S);
    S.truncated_at = -1;
    PyObject *result = NULL;
    if (table_resize(&S, 64)) {
        PyErr_NoMemory();
        goto done;
    }
    /* plugin state carried in from earlier files */
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(plugins, &pos, &k, &v)) {
        Py_ssize_t kl, vl;
        const char *ks, *vs;
        if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
            PyErr_SetString(PyExc_TypeError, "plugins must map str tags to str plugin names");
            goto done;
        }
        if (!(ks = PyUnicode_AsUTF8AndSize(k, &kl)) || !(vs = PyUnicode_AsUTF8AndSize(v, &vl)))
            goto done;
        int32_t e = entry_for(&S, (const uint8_t *)ks, (size_t)kl);
        if (e < 0 || set_plugin(&S, &S.entries[e], (const uint8_t *)vs, (size_t)vl)) {
            PyErr_NoMemory();
            goto done;
        }
    }

    uint64_t size = 0;
    int open_errno = 0;
    FILE *f = open_file(path, &size, &open_errno);
    if (!f)
        goto done;
    Stream s;
    memset(&s, 0, sizeof s);
    s.f = f;
    s.size = size;
    s.chunk = chunk > 0 ? (size_t)chunk : DEFAULT_BUF;
    S.size = size;
    Py_BEGIN_ALLOW_THREADS
    if (start >= size)
        S.end = start;  /* nothing new (or the file shrank: the caller decides) */
    else if (seek_to(f, start) != 0)
        s.err = errno ? errno : EIO;
    else {
        s.base = start;
        scan_stream(&S, &s, verify, start);
    }
    fclose(f);
    Py_END_ALLOW_THREADS
    free(s.buf);
    if (s.err) {
        errno = s.err;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        goto done;
    }
    if (S.nomem || s.nomem) {
        PyErr_NoMemory();
        goto done;
    }
    result = build_result(&S, plugins);
done:
    scanner_free(&S);
    return result;
}

PyDoc_STRVAR(crc_doc, "crc32c(data, software=False) -> int: CRC-32C of a bytes-like object.");

static PyObject *py_crc32c(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"data", "software", NULL};
    Py_buffer buf;
    int software = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|p:crc32c", kwlist, &buf, &software))
        return NULL;
    uint32_t c = software ? crc32c_sw(buf.buf, (size_t)buf.len) : crc32c(buf.buf, (size_t)buf.len);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef methods[] = {
    {"scan", py_scan, METH_VARARGS, scan_doc},
    {"crc32c", (PyCFunction)(void (*)(void))py_crc32c, METH_VARARGS | METH_KEYWORDS, crc_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_scan",
    .m_doc = "Streaming TensorBoard scalar reader (see scan).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__scan(void)
{
    crc_init();
#ifdef LOSSCTL_X86_CRC
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        crc32c = crc32c_hw;
        crc_hardware = 1;
    }
#endif
    if (PyType_Ready(&BufferType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "hardware_crc", crc_hardware)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
