/* ckpt.c: checkpoints: the whole network as one versioned, checksummed byte buffer, and
 * back; sk_net_clone is a checkpoint followed by a restore.
 *
 * Layout (native byte order, which the header records; a foreign order is rejected):
 *   "SPKDCKPT" | u32 version | u32 byte-order mark 0x01020304 | u64 payload length |
 *   payload | u32 CRC-32C of everything before it.
 * The payload is a fixed sequence of tagged sections: NET1, then POP1 per population,
 * PRJ1 per projection, STM1 per stimulus, REC1 per recorder, HST1 (spike history), INJ1
 * (pending injections), SYN1 (version 3: per projection its synapse model, parameters,
 * per-synapse state, lost count and the built weights of a static projection whose weights
 * were set; per population its spike trace; the weight recorders), END1. Each section's fields are listed in put_* below and read back
 * in the same order by get_*.
 *
 * Restoring trusts nothing: the CRC catches accidents, and every count, index and size is
 * checked again (a buffer with a valid CRC may still be hostile), every allocation is
 * bounded by the bytes left in the buffer, and the network passes the same limits as a
 * created one. Any failure frees what was built and reports SK_ECORRUPT / SK_EVERSION /
 * SK_ELIMIT with a message.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#define CKPT_MAGIC   "SPKDCKPT"
#define CKPT_VERSION 3u /* 3: section SYN1 (synapse models, per-synapse state, traces) before
                           END1; 2: per population the model's version and fingerprint,
                           parameters as double; versions 1 and 2 still restore (static
                           projections only, as they were written) */
#define CKPT_BOM     0x01020304u
#define CKPT_HEADER  24u

enum { TAG_NET = 0x3154454e, TAG_POP = 0x31504f50, TAG_PRJ = 0x314a5250, TAG_STM = 0x314d5453,
       TAG_REC = 0x31434552, TAG_HST = 0x31545348, TAG_INJ = 0x314a4e49, TAG_END = 0x31444e45,
       TAG_SYN = 0x314e5953 };

/* ------------------------------------------------------------------------------------ */
/* CRC-32C (Castagnoli), table-driven                                                    */

/* The table of reflected polynomial 0x82F63B78 (generated once, checked by test_ckpt.c
 * against the CRC-32C check value of "123456789"). Constant: safe from any thread. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t sk__crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------------------------ */
/* Writer (buf == NULL: count only)                                                      */

typedef struct wr {
    uint8_t *buf;
    uint64_t len;
} wr_t;

static void put(wr_t *w, const void *src, uint64_t n)
{
    if (w->buf && n)
        memcpy(w->buf + w->len, src, n);
    w->len += n;
}
static void put_u32(wr_t *w, uint32_t v)
{
    put(w, &v, 4);
}
static void put_i32(wr_t *w, int32_t v)
{
    put(w, &v, 4);
}
static void put_u64(wr_t *w, uint64_t v)
{
    put(w, &v, 8);
}
static void put_f32(wr_t *w, float v)
{
    put(w, &v, 4);
}
static void put_f64(wr_t *w, double v)
{
    put(w, &v, 8);
}
static void put_str(wr_t *w, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    put_u32(w, n);
    put(w, s, n);
}

static void put_net(wr_t *w, const sk_net_t *net)
{
    put_u32(w, TAG_NET);
    put_f64(w, net->dt_ms);
    put_u64(w, net->seed);
    put_u64(w, net->step);
    const sk_limits_t *l = &net->limits;
    put_u64(w, l->max_neurons);
    put_u64(w, l->max_synapses);
    put_u64(w, l->max_bytes);
    put_u32(w, l->max_delay);
    put_u64(w, l->spike_history);
    put_u32(w, l->history_steps);
    put_u64(w, l->max_pending);
    put_u64(w, l->max_record_values);
    put_u32(w, net->n_pops);
    put_u32(w, net->n_projs);
    put_u32(w, net->n_stims);
    put_u32(w, net->n_recs);
    put_u64(w, net->spikes_total);
}

static void put_pop(wr_t *w, const sk__pop_t *p)
{
    const sk_model_t *m = p->model;
    put_u32(w, TAG_POP);
    put_str(w, p->name);
    put_str(w, m->name);
    put_u32(w, m->version);
    put_u64(w, m->fingerprint);
    put_u32(w, p->n);
    put_u32(w, p->depth);
    put_u32(w, p->refrac_steps);
    put_u64(w, p->spikes_total);
    put_u32(w, m->n_params);
    put(w, p->p, 8u * m->n_params);
    put_u32(w, m->n_state);
    for (uint32_t k = 0; k < m->n_state; k++)
        put(w, p->s[k], 4u * (uint64_t)p->n);
    put_u32(w, m->n_inputs);
    put(w, p->ring, 4u * (uint64_t)p->depth * m->n_inputs * p->n);
    if (p->refrac)
        put(w, p->refrac, 2u * (uint64_t)p->n);
    put_u32(w, p->n_init);
    for (uint32_t k = 0; k < p->n_init; k++) {
        const sk__init_t *in = &p->init[k];
        put_u32(w, in->var);
        put_u32(w, in->kind);
        put_f32(w, in->a);
        put_f32(w, in->b);
        if (in->kind == SK_INIT_VALUES)
            put(w, in->values, 4u * (uint64_t)p->n);
    }
}

static void put_proj(wr_t *w, const sk_net_t *net, const sk__proj_t *p)
{
    uint64_t n_pre = net->pops[p->src].n, n_post = net->pops[p->dst].n;
    put_u32(w, TAG_PRJ);
    put_u32(w, p->src);
    put_u32(w, p->dst);
    put_i32(w, p->channel);
    put_u32(w, (uint32_t)p->dense);
    put_u32(w, p->delay);
    put_u32(w, p->max_delay);
    put_u64(w, p->n_syn);
    put_f32(w, p->w_const);
    put_u32(w, p->w != NULL);
    put_u32(w, p->delays != NULL);
    if (p->dense) {
        put(w, p->w, 4u * n_pre * n_post);
        return;
    }
    put(w, p->row, 8u * (n_pre + 1));
    put(w, p->col, 4u * p->n_syn);
    if (p->w)
        put(w, p->w, 4u * p->n_syn);
    if (p->delays)
        put(w, p->delays, 2u * p->n_syn);
}

static void put_stim(wr_t *w, const sk__stim_t *s)
{
    put_u32(w, TAG_STM);
    put_u32(w, s->kind);
    put_u32(w, s->pop);
    put_i32(w, s->channel);
    put_u32(w, s->neurons != NULL);
    put_u32(w, s->n_neurons);
    if (s->neurons)
        put(w, s->neurons, 4u * (uint64_t)s->n_neurons);
    put_f64(w, s->rate_hz);
    put_u32(w, s->n_sources);
    put_f32(w, s->weight);
    put_f32(w, s->amplitude);
    put_u64(w, s->start);
    put_u64(w, s->stop);
    put_u32(w, s->n_times);
    put(w, s->times, 8u * (uint64_t)s->n_times);
    if (s->kind == SK_STIM_STEP_CURRENT)
        put(w, s->amplitudes, 4u * (uint64_t)s->n_times);
    if (s->kind == SK_STIM_CURRENT) {
        put_u32(w, s->amplitudes != NULL);
        if (s->amplitudes)
            put(w, s->amplitudes, 4u * (uint64_t)s->n_amplitudes);
    }
    if (s->kind == SK_STIM_SPIKE_TIMES)
        put(w, s->spike_neurons, 4u * (uint64_t)s->n_times);
}

static void put_rec(wr_t *w, const sk__rec_t *r)
{
    put_u32(w, TAG_REC);
    put_u32(w, r->pop);
    put_u32(w, r->n_vars);
    put_u32(w, r->n_neurons);
    put_u32(w, r->every);
    put(w, r->vars, 4u * (uint64_t)r->n_vars);
    put(w, r->neurons, 4u * (uint64_t)r->n_neurons);
    put_u64(w, r->cap);
    put_u64(w, r->head);
    uint64_t kept = r->head < r->cap ? r->head : r->cap;
    uint64_t width = (uint64_t)r->n_vars * r->n_neurons;
    for (uint64_t k = r->head - kept; k < r->head; k++) { /* live samples, oldest first */
        put_u64(w, r->steps[k % r->cap]);
        put(w, r->buf + (k % r->cap) * width, 4u * width);
    }
}

static void put_hist(wr_t *w, const sk_net_t *net)
{
    const sk__hist_t *h = &net->hist;
    put_u32(w, TAG_HST);
    put_u64(w, h->cap_ids);
    put_u32(w, h->cap_recs);
    put_u64(w, h->first_kept);
    put_u64(w, h->rec_head - h->rec_tail);
    for (uint64_t rec = h->rec_tail; rec < h->rec_head; rec++) {
        uint32_t r = (uint32_t)(rec % h->cap_recs);
        uint64_t total = 0;
        put_u64(w, h->rec_step[r]);
        for (uint32_t k = 0; k < net->n_pops; k++) {
            uint32_t c = h->rec_count[(size_t)r * net->n_pops + k];
            put_u32(w, c);
            total += c;
        }
        put(w, h->ids + h->rec_pos[r] % h->cap_ids, 4u * total);
    }
}

static uint64_t n_weights(const sk_net_t *net, const sk__proj_t *p)
{
    return p->dense ? (uint64_t)net->pops[p->src].n * net->pops[p->dst].n : p->n_syn;
}

static void put_syn(wr_t *w, const sk_net_t *net)
{
    put_u32(w, TAG_SYN);
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        const uint64_t n = n_weights(net, p);
        put_u32(w, p->syn != NULL);
        if (p->syn) {
            put_str(w, p->syn->name);
            put_u32(w, p->syn->n_params);
            put(w, p->sp, 8u * p->syn->n_params);
            put_u32(w, p->ns);
            put(w, p->st, 8u * n * p->ns);
            put_u64(w, p->lost);
        }
        put_u32(w, p->w_built != NULL);
        if (p->w_built)
            put(w, p->w_built, 4u * n);
    }
    for (uint32_t k = 0; k < net->n_pops; k++) {
        const sk__pop_t *pop = &net->pops[k];
        put_u32(w, pop->tr_cap);
        if (!pop->tr_cap)
            continue;
        put_u32(w, pop->tr_tau);
        put(w, pop->tr_n, 8u * pop->n);
        put(w, pop->tr_step, 8u * pop->n * pop->tr_cap);
        put(w, pop->tr_k, 8u * pop->n * pop->tr_cap);
    }
    put_u32(w, net->n_wrecs);
    for (uint32_t k = 0; k < net->n_wrecs; k++) {
        const sk__wrec_t *r = &net->wrecs[k];
        put_u32(w, r->proj);
        put_u32(w, r->every);
        put_u64(w, r->n);
        put_u64(w, r->cap);
        put_u64(w, r->head);
        put(w, r->index, 8u * r->n);
        put(w, r->steps, 8u * r->cap);
        put(w, r->buf, 8u * r->cap * r->n);
    }
}

static void put_all(wr_t *w, const sk_net_t *net)
{
    put_net(w, net);
    for (uint32_t k = 0; k < net->n_pops; k++)
        put_pop(w, &net->pops[k]);
    for (uint32_t k = 0; k < net->n_projs; k++)
        put_proj(w, net, &net->projs[k]);
    for (uint32_t k = 0; k < net->n_stims; k++)
        put_stim(w, &net->stims[k]);
    for (uint32_t k = 0; k < net->n_recs; k++)
        put_rec(w, &net->recs[k]);
    put_hist(w, net);
    const sk__queue_t *q = &net->queue;
    put_u32(w, TAG_INJ);
    put_u64(w, q->n - q->head);
    for (uint64_t i = q->head; i < q->n; i++) {
        const sk_inject_t *in = &q->items[i];
        put_u32(w, in->kind);
        put_u32(w, in->pop);
        put_i32(w, in->channel);
        put_u32(w, in->neuron);
        put_u64(w, in->step);
        put_f32(w, in->value);
    }
    put_syn(w, net);
    put_u32(w, TAG_END);
}

uint64_t sk_net_checkpoint_size(const sk_net_t *net)
{
    wr_t w = {0};
    put_all(&w, net);
    return CKPT_HEADER + w.len + 4u;
}

int sk_net_checkpoint(const sk_net_t *net, void *buf, uint64_t cap, uint64_t *len)
{
    uint64_t need = sk_net_checkpoint_size(net);
    if (!buf || cap < need)
        return SK_ERANGE;
    wr_t w = {.buf = buf};
    put(&w, CKPT_MAGIC, 8);
    put_u32(&w, CKPT_VERSION);
    put_u32(&w, CKPT_BOM);
    put_u64(&w, need - CKPT_HEADER - 4u);
    put_all(&w, net);
    put_u32(&w, sk__crc32c(0, buf, w.len));
    if (len)
        *len = w.len;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Reader                                                                                */

typedef struct rd {
    const uint8_t *p;
    uint64_t len, pos;
    int bad;
    uint32_t version; /* the checkpoint's format version */
    sk_err_t *err;
} rd_t;

/* The first failure decides the code (an allocation that failed stays SK_ENOMEM). */
static int corrupt(rd_t *r, const char *what)
{
    if (!r->bad) {
        sk_err_set(r->err, SK_ECORRUPT, "checkpoint", "corrupted checkpoint: %s", what);
        r->bad = 1;
    }
    return SK_ECORRUPT;
}

static int get(rd_t *r, void *dst, uint64_t n)
{
    if (r->bad || n > r->len - r->pos) {
        memset(dst, 0, n);
        return corrupt(r, "truncated");
    }
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}
static uint32_t get_u32(rd_t *r)
{
    uint32_t v = 0;
    get(r, &v, 4);
    return v;
}
static int32_t get_i32(rd_t *r)
{
    int32_t v = 0;
    get(r, &v, 4);
    return v;
}
static uint64_t get_u64(rd_t *r)
{
    uint64_t v = 0;
    get(r, &v, 8);
    return v;
}
static float get_f32(rd_t *r)
{
    float v = 0;
    get(r, &v, 4);
    return v;
}
static double get_f64(rd_t *r)
{
    double v = 0;
    get(r, &v, 8);
    return v;
}

/* True when n items of `size` bytes are still in the buffer (bounds every allocation). */
static int fits(rd_t *r, uint64_t n, uint64_t size)
{
    uint64_t bytes;
    if (r->bad || __builtin_mul_overflow(n, size, &bytes) || bytes > r->len - r->pos) {
        corrupt(r, "a length exceeds the data");
        return 0;
    }
    return 1;
}

static void get_str(rd_t *r, char *dst, size_t cap)
{
    uint32_t n = get_u32(r);
    if (n >= cap || !fits(r, n, 1)) {
        corrupt(r, "bad string");
        dst[0] = '\0';
        return;
    }
    get(r, dst, n);
    dst[n] = '\0';
}

static void expect_tag(rd_t *r, uint32_t tag)
{
    if (get_u32(r) != tag)
        corrupt(r, "unexpected section");
}

/* Allocates n items of size bytes (0 = NULL) and reads them. aligned selects the allocator. */
static void *get_array(rd_t *r, uint64_t n, uint64_t size, int aligned)
{
    if (!fits(r, n, size))
        return NULL;
    void *p = aligned ? sk_alloc_aligned(n ? n : 1, size) : sk_calloc(n ? n : 1, size);
    if (!p) {
        if (!r->bad)
            sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
        r->bad = 2;
        return NULL;
    }
    get(r, p, n * size);
    return p;
}

/* ------------------------------------------------------------------------------------ */
/* Restore                                                                               */

static int all_zero_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned char any = 0;
    for (size_t k = 0; k < n; k++)
        any |= b[k];
    return any == 0;
}

static void get_net(rd_t *r, sk_net_t *net, const sk_limits_t *caps)
{
    expect_tag(r, TAG_NET);
    net->dt_ms = get_f64(r);
    net->seed = get_u64(r);
    net->step = get_u64(r);
    sk_limits_t l;
    l.max_neurons = get_u64(r);
    l.max_synapses = get_u64(r);
    l.max_bytes = get_u64(r);
    l.max_delay = get_u32(r);
    l.spike_history = get_u64(r);
    l.history_steps = get_u32(r);
    l.max_pending = get_u64(r);
    l.max_record_values = get_u64(r);
    sk__limits_resolve(&l, &net->limits);
    /* the restoring caller's limits win over the saved ones */
#define SK__CAP(field)                                                                         \
    if (net->limits.field > caps->field)                                                       \
        net->limits.field = caps->field;
    SK__CAP(max_neurons)
    SK__CAP(max_synapses)
    SK__CAP(max_bytes)
    SK__CAP(max_delay)
    SK__CAP(spike_history)
    SK__CAP(history_steps)
    SK__CAP(max_pending)
    SK__CAP(max_record_values)
#undef SK__CAP
    net->n_pops = get_u32(r);
    net->n_projs = get_u32(r);
    net->n_stims = get_u32(r);
    net->n_recs = get_u32(r);
    net->spikes_total = get_u64(r);
    if (!(net->dt_ms > 0.0 && net->dt_ms <= 1000.0) || net->n_pops < 1 ||
        net->limits.history_steps < 1 || net->limits.spike_history < 1 ||
        net->limits.max_record_values < 1)
        corrupt(r, "bad network header");
    /* each element takes at least 4 bytes: bounds the tables allocated below */
    if (!fits(r, (uint64_t)net->n_pops + net->n_projs + net->n_stims + net->n_recs, 4))
        return;
}

static int get_pop(rd_t *r, sk_net_t *net, uint32_t k, uint32_t offset)
{
    sk__pop_t *p = &net->pops[k];
    char model[SK__NAME_MAX + 1];
    expect_tag(r, TAG_POP);
    get_str(r, p->name, sizeof p->name);
    get_str(r, model, sizeof model);
    uint32_t model_version = 0;
    uint64_t fingerprint = 0;
    if (r->version >= 2) {
        model_version = get_u32(r);
        fingerprint = get_u64(r);
    }
    p->n = get_u32(r);
    p->depth = get_u32(r);
    uint32_t refrac = get_u32(r);
    p->spikes_total = get_u64(r);
    p->model = sk_model_find(model);
    p->offset = offset;
    p->index = k;
    if (r->bad || !p->model || !sk__valid_name(p->name) || p->n < 1 || p->depth < 1 ||
        p->depth > net->limits.max_delay + 1 || refrac > 65535u)
        return corrupt(r, "bad population");
    const sk_model_t *m = p->model;
    /* The fingerprint hashes the model's state layout and dynamics (core/models/gen.py):
     * a checkpoint of another description is refused, not misread. Version-1 checkpoints
     * carry none; their models are the seed models, unchanged since. */
    if (r->version >= 2 && (model_version != m->version || fingerprint != m->fingerprint)) {
        if (!r->bad)
            sk_err_set(r->err, SK_EVERSION, "checkpoint",
                       "population %s: model %s changed since the checkpoint (version %u, "
                       "fingerprint %016llx; this build: version %u, fingerprint %016llx)",
                       p->name, m->name, model_version, (unsigned long long)fingerprint,
                       m->version, (unsigned long long)m->fingerprint);
        r->bad = 4;
        return SK_EVERSION;
    }
    if (get_u32(r) != m->n_params)
        return corrupt(r, "parameter count does not match the model");
    if (r->version >= 2) {
        get(r, p->p, 8u * m->n_params);
    } else {
        float old[SK_MODEL_MAX_PARAMS];
        get(r, old, 4u * m->n_params);
        for (uint32_t j = 0; j < m->n_params; j++)
            p->p[j] = old[j];
    }
    if (r->bad || sk_model_check_params(m, p->p, NULL))
        return corrupt(r, "invalid parameters");
    p->refrac_steps = (uint16_t)refrac;
    p->dt = sk_model_dt(m, net->dt_ms);
    m->derive(p->p, p->dt, p->d);
    /* state, ring, and refractory counters only when the population has them */
    uint64_t per = 4u * (uint64_t)m->n_state + 4u * (uint64_t)p->depth * m->n_inputs +
                   (p->refrac_steps ? 2u : 0u);
    if (!fits(r, p->n, per))
        return SK_ECORRUPT;
    /* the limits before the allocation: a population without state or inputs (spike_source)
     * has no per-neuron bytes in the checkpoint, so the data length does not bound its size;
     * 9 bytes per neuron of bookkeeping as in the create-time estimate (net.c) */
    if ((uint64_t)offset + p->n > net->limits.max_neurons) {
        r->bad = 3;
        return sk_err_set(r->err, SK_ELIMIT, "checkpoint", "the network exceeds the neuron "
                          "limit");
    }
    if (net->bytes + (uint64_t)p->n * (per + 9u) > net->limits.max_bytes) {
        r->bad = 3;
        return sk_err_set(r->err, SK_ELIMIT, "checkpoint", "the network exceeds the memory "
                          "limit");
    }
    if (sk__pop_alloc(p, &net->bytes)) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    if (get_u32(r) != m->n_state)
        return corrupt(r, "state count does not match the model");
    for (uint32_t j = 0; j < m->n_state; j++)
        get(r, p->s[j], 4u * (uint64_t)p->n);
    if (get_u32(r) != m->n_inputs)
        return corrupt(r, "input count does not match the model");
    get(r, p->ring, 4u * (uint64_t)p->depth * m->n_inputs * p->n);
    for (uint32_t slot = 0; !r->bad && slot < p->depth; slot++) /* any bit set: written */
        p->written[slot] = !all_zero_bytes(p->ring + (size_t)slot * m->n_inputs * p->n,
                                           4u * (size_t)m->n_inputs * p->n);
    if (p->refrac)
        get(r, p->refrac, 2u * (uint64_t)p->n);
    p->n_init = get_u32(r);
    if (p->n_init > m->n_state)
        return corrupt(r, "bad initial-state list");
    if (!(p->init = sk_calloc(p->n_init + 1u, sizeof *p->init))) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    for (uint32_t j = 0; j < p->n_init; j++) {
        sk__init_t *in = &p->init[j];
        in->var = get_u32(r);
        in->kind = get_u32(r);
        in->a = get_f32(r);
        in->b = get_f32(r);
        if (in->var >= m->n_state || in->kind > SK_INIT_VALUES)
            return corrupt(r, "bad initial-state entry");
        if (in->kind == SK_INIT_VALUES && !(in->values = get_array(r, p->n, 4, 0)))
            return SK_ECORRUPT;
    }
    return r->bad ? SK_ECORRUPT : 0;
}

static int check_channel(const sk_model_t *m, int32_t c)
{
    return (c == -1 && (m->flags & SK_MODEL_SIGN_SPLIT) && m->n_inputs >= 2) ||
           (c >= 0 && (uint32_t)c < m->n_inputs);
}

static int check_csr(rd_t *r, const sk__proj_t *p, uint64_t n_pre, uint64_t n_post,
                     uint32_t depth)
{
    if (p->row[0] != 0 || p->row[n_pre] != p->n_syn)
        return corrupt(r, "bad synapse rows");
    /* Every offset in [0, n_syn] and non-decreasing, before any is used to index col[]. */
    for (uint64_t j = 0; j < n_pre; j++)
        if (p->row[j + 1] < p->row[j] || p->row[j + 1] > p->n_syn)
            return corrupt(r, "bad synapse rows");
    for (uint64_t j = 0; j < n_pre; j++) {
        for (uint64_t k = p->row[j]; k + 1 < p->row[j + 1]; k++)
            if (p->col[k + 1] < p->col[k])
                return corrupt(r, "synapse targets out of order");
    }
    for (uint64_t k = 0; k < p->n_syn; k++) {
        if (p->col[k] >= n_post)
            return corrupt(r, "synapse target out of range");
        if (p->delays && (p->delays[k] < 1 || p->delays[k] > p->max_delay))
            return corrupt(r, "synapse delay out of range");
    }
    return p->max_delay + 1 > depth ? corrupt(r, "delay longer than the target's ring") : 0;
}

static int get_proj(rd_t *r, sk_net_t *net, sk__proj_t *p)
{
    expect_tag(r, TAG_PRJ);
    p->src = get_u32(r);
    p->dst = get_u32(r);
    p->channel = get_i32(r);
    p->dense = get_u32(r) != 0;
    p->delay = get_u32(r);
    p->max_delay = get_u32(r);
    p->n_syn = get_u64(r);
    p->w_const = get_f32(r);
    uint32_t has_w = get_u32(r), has_delays = get_u32(r);
    if (r->bad || p->src >= net->n_pops || p->dst >= net->n_pops)
        return corrupt(r, "bad projection");
    const sk__pop_t *dst = &net->pops[p->dst];
    uint64_t n_pre = net->pops[p->src].n, n_post = dst->n;
    if (!check_channel(dst->model, p->channel) || p->max_delay < 1 ||
        p->max_delay + 1 > dst->depth || (!has_delays && (p->delay < 1 || p->delay > p->max_delay)))
        return corrupt(r, "bad projection");
    net->n_synapses += p->n_syn;
    if (net->n_synapses > net->limits.max_synapses) {
        r->bad = 3;
        return sk_err_set(r->err, SK_ELIMIT, "checkpoint", "the network exceeds the synapse "
                          "limit");
    }
    if (p->dense) {
        if (has_delays || !has_w || !(p->w = get_array(r, n_pre * n_post, 4, 1)))
            return corrupt(r, "bad dense projection");
        net->bytes += sk__proj_bytes(net, p);
        return 0;
    }
    if (!(p->row = get_array(r, n_pre + 1, 8, 0)) || !(p->col = get_array(r, p->n_syn, 4, 0)))
        return SK_ECORRUPT;
    if (has_w && !(p->w = get_array(r, p->n_syn, 4, 0)))
        return SK_ECORRUPT;
    if (has_delays && !(p->delays = get_array(r, p->n_syn, 2, 0)))
        return SK_ECORRUPT;
    net->bytes += sk__proj_bytes(net, p);
    return check_csr(r, p, n_pre, n_post, dst->depth);
}

static int get_stim(rd_t *r, sk_net_t *net, sk__stim_t *s)
{
    expect_tag(r, TAG_STM);
    s->kind = get_u32(r);
    s->pop = get_u32(r);
    s->channel = get_i32(r);
    uint32_t has_neurons = get_u32(r);
    s->n_neurons = get_u32(r);
    if (r->bad || s->kind > SK_STIM_SPIKE_TIMES || s->pop >= net->n_pops)
        return corrupt(r, "bad stimulus");
    const sk__pop_t *pop = &net->pops[s->pop];
    if (s->kind != SK_STIM_SPIKE_TIMES && !check_channel(pop->model, s->channel))
        return corrupt(r, "bad stimulus channel");
    if (has_neurons && !(s->neurons = get_array(r, s->n_neurons, 4, 0)))
        return SK_ECORRUPT;
    for (uint32_t j = 0; s->neurons && j < s->n_neurons; j++)
        if (s->neurons[j] >= pop->n || (j && s->neurons[j] < s->neurons[j - 1]))
            return corrupt(r, "stimulus neurons out of range or order");
    if (!has_neurons)
        s->n_neurons = 0;
    double rate = get_f64(r);
    s->n_sources = get_u32(r);
    s->weight = get_f32(r);
    s->amplitude = get_f32(r);
    s->start = get_u64(r);
    s->stop = get_u64(r);
    s->n_times = get_u32(r);
    if (!(rate >= 0.0 && rate <= 1e6) || s->n_sources < 1 || s->n_sources > 1000000u)
        return corrupt(r, "bad stimulus rate");
    sk__stim_set_rate(s, rate, net->dt_ms);
    if (!(s->times = get_array(r, s->n_times, 8, 0)))
        return SK_ECORRUPT;
    for (uint32_t k = 1; k < s->n_times; k++)
        if (s->times[k] < s->times[k - 1] ||
            (s->kind == SK_STIM_STEP_CURRENT && s->times[k] == s->times[k - 1]))
            return corrupt(r, "stimulus times out of order");
    if (s->kind == SK_STIM_STEP_CURRENT && !(s->amplitudes = get_array(r, s->n_times, 4, 0)))
        return SK_ECORRUPT;
    if (s->kind == SK_STIM_CURRENT && get_u32(r)) {
        s->n_amplitudes = s->neurons ? s->n_neurons : pop->n;
        if (!(s->amplitudes = get_array(r, s->n_amplitudes, 4, 0)))
            return SK_ECORRUPT;
    }
    if (s->kind == SK_STIM_SPIKE_TIMES) {
        if (!(s->spike_neurons = get_array(r, s->n_times, 4, 0)))
            return SK_ECORRUPT;
        for (uint32_t k = 0; k < s->n_times; k++)
            if (s->spike_neurons[k] >= pop->n)
                return corrupt(r, "stimulus neuron out of range");
    }
    sk__stim_prepare(s);
    return r->bad ? SK_ECORRUPT : 0;
}

static int get_rec(rd_t *r, sk_net_t *net, sk__rec_t *rec)
{
    expect_tag(r, TAG_REC);
    rec->pop = get_u32(r);
    rec->n_vars = get_u32(r);
    rec->n_neurons = get_u32(r);
    rec->every = get_u32(r);
    if (r->bad || rec->pop >= net->n_pops || rec->n_vars < 1 || rec->n_neurons < 1 ||
        rec->every < 1)
        return corrupt(r, "bad recorder");
    const sk__pop_t *pop = &net->pops[rec->pop];
    if (!(rec->vars = get_array(r, rec->n_vars, 4, 0)) ||
        !(rec->neurons = get_array(r, rec->n_neurons, 4, 0)))
        return SK_ECORRUPT;
    for (uint32_t j = 0; j < rec->n_vars; j++)
        if (rec->vars[j] >= pop->model->n_state)
            return corrupt(r, "recorder variable out of range");
    for (uint32_t j = 0; j < rec->n_neurons; j++)
        if (rec->neurons[j] >= pop->n)
            return corrupt(r, "recorder neuron out of range");
    rec->cap = get_u64(r);
    uint64_t head = get_u64(r), width = (uint64_t)rec->n_vars * rec->n_neurons;
    uint64_t kept = head < rec->cap ? head : rec->cap, values;
    if (r->bad || rec->cap < 1 || __builtin_mul_overflow(rec->cap, width, &values) ||
        values > net->limits.max_record_values || !fits(r, kept, 8u + 4u * width))
        return corrupt(r, "bad recorder buffer");
    if (net->bytes + rec->cap * 8u + values * 4u > net->limits.max_bytes) {
        r->bad = 3;
        return sk_err_set(r->err, SK_ELIMIT, "checkpoint", "the network exceeds the memory "
                          "limit");
    }
    if (sk__rec_alloc(rec)) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    net->bytes += rec->cap * (8u + 4u * width);
    for (uint64_t k = head - kept; k < head; k++) {
        rec->steps[k % rec->cap] = get_u64(r);
        get(r, rec->buf + (k % rec->cap) * width, 4u * width);
    }
    rec->head = head;
    return r->bad ? SK_ECORRUPT : 0;
}

static int get_hist(rd_t *r, sk_net_t *net)
{
    sk__hist_t *h = &net->hist;
    expect_tag(r, TAG_HST);
    h->cap_ids = get_u64(r);
    h->cap_recs = get_u32(r);
    h->first_kept = get_u64(r);
    uint64_t n_recs = get_u64(r);
    uint64_t max_ids = net->limits.spike_history > net->n_neurons ? net->limits.spike_history
                                                                   : net->n_neurons;
    if (r->bad || h->cap_ids < net->n_neurons || h->cap_ids > max_ids || h->cap_recs < 1 ||
        h->cap_recs > net->limits.history_steps || n_recs > h->cap_recs ||
        !fits(r, n_recs, 12))
        return corrupt(r, "bad spike history");
    if (sk__hist_alloc(h, net->n_pops)) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    net->bytes += h->cap_ids * 4u + (uint64_t)h->cap_recs * (16u + 4u * net->n_pops);
    uint64_t last = 0;
    for (uint64_t rec = 0; rec < n_recs; rec++) {
        uint64_t step = get_u64(r), total = 0;
        if ((rec && step <= last) || step >= net->step)
            return corrupt(r, "spike history out of order");
        last = step;
        uint32_t slot = (uint32_t)(h->rec_head % h->cap_recs);
        for (uint32_t k = 0; k < net->n_pops; k++) {
            uint32_t c = get_u32(r);
            if (c > net->pops[k].n)
                return corrupt(r, "spike history count out of range");
            h->rec_count[(size_t)slot * net->n_pops + k] = c;
            total += c;
        }
        uint64_t pos = h->id_head;
        if (pos % h->cap_ids + total > h->cap_ids)
            pos += h->cap_ids - pos % h->cap_ids;
        if (pos + total - h->id_tail > h->cap_ids || !fits(r, total, 4))
            return corrupt(r, "spike history larger than its ring");
        uint32_t *ids = h->ids + pos % h->cap_ids;
        get(r, ids, 4u * total);
        for (uint32_t k = 0; k < net->n_pops; k++)
            for (uint32_t j = 0; j < h->rec_count[(size_t)slot * net->n_pops + k]; j++, ids++)
                if (*ids >= net->pops[k].n)
                    return corrupt(r, "spike id out of range");
        h->rec_step[slot] = step;
        h->rec_pos[slot] = pos;
        h->id_head = pos + total;
        h->rec_head++;
    }
    return r->bad ? SK_ECORRUPT : 0;
}

static int get_queue(rd_t *r, sk_net_t *net)
{
    sk__queue_t *q = &net->queue;
    expect_tag(r, TAG_INJ);
    uint64_t n = get_u64(r);
    if (r->bad || n > net->limits.max_pending || !fits(r, n, 28))
        return corrupt(r, "bad injection queue");
    if (n && !(q->items = sk_calloc(n, sizeof *q->items))) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    for (uint64_t i = 0; i < n; i++) {
        sk_inject_t *in = &q->items[i];
        in->kind = (sk_inject_kind_t)get_u32(r);
        in->pop = get_u32(r);
        in->channel = get_i32(r);
        in->neuron = get_u32(r);
        in->step = get_u64(r);
        in->value = get_f32(r);
        if (in->pop >= net->n_pops || in->neuron >= net->pops[in->pop].n ||
            in->step < net->step || (i && in->step < q->items[i - 1].step) ||
            (in->kind != SK_INJECT_SPIKE &&
             (in->kind != SK_INJECT_CURRENT || !check_channel(net->pops[in->pop].model, in->channel))))
            return corrupt(r, "bad injection");
    }
    q->n = q->cap = n;
    return r->bad ? SK_ECORRUPT : 0;
}

static int model_param(const sk_model_t *m, const char *name)
{
    for (uint32_t k = 0; k < m->n_params; k++)
        if (strcmp(m->params[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* Section SYN1 (version 3). Every projection's synapse and every population's trace must be
 * consistent with the registry and with each other (a trace-reading projection's target has
 * a trace of 1 to 65536 entries and tau_minus at tr_tau). */
static int get_syn(rd_t *r, sk_net_t *net)
{
    expect_tag(r, TAG_SYN);
    for (uint32_t k = 0; !r->bad && k < net->n_projs; k++) {
        sk__proj_t *p = &net->projs[k];
        const uint64_t n = n_weights(net, p);
        if (get_u32(r)) {
            char name[SK__NAME_MAX + 1];
            get_str(r, name, sizeof name);
            const sk_synapse_t *syn = sk_synapse_find(name);
            if (r->bad || !syn) {
                r->bad = 4;
                return sk_err_set(r->err, SK_EVERSION, "checkpoint", "projection %u: unknown "
                                  "synapse model \"%s\"", k, name);
            }
            const sk_model_t *m = net->pops[p->dst].model;
            if (get_u32(r) != syn->n_params || !fits(r, syn->n_params, 8))
                return corrupt(r, "bad synapse parameters");
            get(r, p->sp, 8u * syn->n_params);
            if (!r->bad && !sk__syn_params_ok(syn, p->sp))
                return corrupt(r, "synapse parameter out of range");
            for (uint32_t j = 0; j < syn->n_post_params; j++) {
                int idx = model_param(m, syn->post_params[j]);
                if (idx < 0)
                    return corrupt(r, "synapse model without its target parameter");
                p->post_idx[j] = (uint32_t)idx;
            }
            if (get_u32(r) != syn->n_state)
                return corrupt(r, "bad synapse state");
            p->syn = syn;
            p->ns = syn->n_state;
            if (!(p->st = get_array(r, n * p->ns, 8, 0)))
                return SK_ECORRUPT;
            p->lost = get_u64(r);
            net->bytes += n * p->ns * 8u;
        }
        if (get_u32(r)) {
            if (p->syn || !(p->w_built = get_array(r, n, 4, 0)) || !p->w)
                return corrupt(r, "bad built weights");
            net->bytes += n * 4u;
        }
    }
    for (uint32_t k = 0; !r->bad && k < net->n_pops; k++) {
        sk__pop_t *pop = &net->pops[k];
        const uint32_t cap = get_u32(r);
        if (!cap)
            continue;
        pop->tr_tau = get_u32(r);
        if (r->bad || cap > 65536u || pop->tr_tau >= pop->model->n_params ||
            strcmp(pop->model->params[pop->tr_tau].name, "tau_minus") != 0)
            return corrupt(r, "bad spike trace");
        pop->tr_cap = cap;
        if (!(pop->tr_n = get_array(r, pop->n, 8, 0)) ||
            !(pop->tr_step = get_array(r, (uint64_t)pop->n * cap, 8, 0)) ||
            !(pop->tr_k = get_array(r, (uint64_t)pop->n * cap, 8, 0)))
            return SK_ECORRUPT;
        net->bytes += (uint64_t)pop->n * (cap * 16u + 8u);
        for (uint32_t i = 0; i < pop->n; i++)
            for (uint64_t j = 0; j < pop->tr_n[i] && j < cap; j++)
                if (pop->tr_step[(size_t)i * cap + j] >= net->step)
                    return corrupt(r, "spike trace ahead of the network");
    }
    for (uint32_t k = 0; !r->bad && k < net->n_projs; k++) {
        const sk__proj_t *p = &net->projs[k];
        if (p->syn && (p->syn->flags & SK_SYN_POST_TRACE) && !net->pops[p->dst].tr_cap)
            return corrupt(r, "plastic projection without its target's trace");
    }
    const uint32_t n_wrecs = get_u32(r);
    if (r->bad || n_wrecs > 65536u || !fits(r, n_wrecs, 36))
        return corrupt(r, "bad weight recorders");
    if (n_wrecs && !(net->wrecs = sk_calloc(n_wrecs, sizeof *net->wrecs))) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    for (uint32_t k = 0; k < n_wrecs; k++) {
        sk__wrec_t *w = &net->wrecs[k];
        net->n_wrecs = k + 1; /* counted before it is read: a failure frees it */
        w->proj = get_u32(r);
        w->every = get_u32(r);
        w->n = get_u64(r);
        w->cap = get_u64(r);
        w->head = get_u64(r);
        if (r->bad || w->proj >= net->n_projs || w->every < 1 || w->n < 1 || w->cap < 1 ||
            w->n > UINT64_MAX / w->cap || w->n * w->cap > net->limits.max_record_values)
            return corrupt(r, "bad weight recorder");
        const uint64_t total = n_weights(net, &net->projs[w->proj]);
        if (!(w->index = get_array(r, w->n, 8, 0)) || !(w->steps = get_array(r, w->cap, 8, 0)) ||
            !(w->buf = get_array(r, w->n * w->cap, 8, 0)))
            return SK_ECORRUPT;
        for (uint64_t j = 0; j < w->n; j++)
            if (w->index[j] >= total)
                return corrupt(r, "bad weight recorder synapse");
        for (uint64_t j = 0; j < w->cap && j < w->head; j++)
            if (w->steps[j] >= net->step)
                return corrupt(r, "weight sample ahead of the network");
        net->bytes += w->n * 8u + w->cap * (8u + 8u * w->n);
    }
    return r->bad ? SK_ECORRUPT : 0;
}

static int get_all(rd_t *r, sk_net_t *net, const sk_limits_t *caps)
{
    get_net(r, net, caps);
    if (r->bad)
        return SK_ECORRUPT;
    net->pops = sk_alloc_aligned(net->n_pops, sizeof *net->pops);
    net->projs = sk_calloc(net->n_projs + 1u, sizeof *net->projs);
    net->stims = sk_calloc(net->n_stims + 1u, sizeof *net->stims);
    net->recs = sk_calloc(net->n_recs + 1u, sizeof *net->recs);
    if (!net->pops || !net->projs || !net->stims || !net->recs) {
        r->bad = 2;
        return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
    }
    uint32_t n_pops = net->n_pops, n_projs = net->n_projs, n_stims = net->n_stims,
             n_recs = net->n_recs;
    /* each element is counted before it is read, so a failure frees its partial state */
    net->n_pops = net->n_projs = net->n_stims = net->n_recs = 0;
    for (uint32_t k = 0; k < n_pops; k++) {
        net->n_pops = k + 1;
        if (get_pop(r, net, k, (uint32_t)net->n_neurons))
            return SK_ECORRUPT;
        net->n_neurons += net->pops[k].n; /* <= limits.max_neurons: checked by get_pop */
    }
    for (uint32_t k = 0; k < n_projs; k++) {
        net->n_projs = k + 1;
        if (get_proj(r, net, &net->projs[k]))
            return SK_ECORRUPT;
    }
    for (uint32_t k = 0; k < n_stims; k++) {
        net->n_stims = k + 1;
        if (get_stim(r, net, &net->stims[k]))
            return SK_ECORRUPT;
    }
    for (uint32_t k = 0; k < n_recs; k++) {
        net->n_recs = k + 1;
        if (get_rec(r, net, &net->recs[k]))
            return SK_ECORRUPT;
    }
    if (get_hist(r, net) || get_queue(r, net))
        return SK_ECORRUPT;
    if (r->version >= 3 && get_syn(r, net))
        return r->bad == 2 ? SK_ENOMEM : SK_ECORRUPT;
    expect_tag(r, TAG_END);
    if (!r->bad) {
        int rc = sk__net_alloc_ids(net);
        if (rc == SK_ELIMIT) {
            r->bad = 3;
            return sk_err_set(r->err, SK_ELIMIT, "checkpoint", "the network exceeds the memory "
                              "limit");
        }
        if (rc) {
            r->bad = 2;
            return sk_err_set(r->err, SK_ENOMEM, "", "out of memory");
        }
    }
    if (!r->bad && r->pos != r->len)
        corrupt(r, "trailing bytes");
    return r->bad ? SK_ECORRUPT : 0;
}

int sk_net_restore(const void *buf, uint64_t len, const sk_limits_t *limits, sk_net_t **out,
                   sk_err_t *err)
{
    const uint8_t *b = buf;
    if (!buf || !out)
        return sk_err_set(err, SK_EINVAL, "checkpoint", "missing buffer");
    if (len < CKPT_HEADER + 4u || memcmp(b, CKPT_MAGIC, 8) != 0)
        return sk_err_set(err, SK_ECORRUPT, "checkpoint", "not a spiked checkpoint");
    uint32_t version, bom;
    uint64_t payload;
    memcpy(&version, b + 8, 4);
    memcpy(&bom, b + 12, 4);
    memcpy(&payload, b + 16, 8);
    if (bom != CKPT_BOM)
        return sk_err_set(err, SK_EVERSION, "checkpoint", "written with another byte order");
    if (version < 1 || version > CKPT_VERSION)
        return sk_err_set(err, SK_EVERSION, "checkpoint", "format version %u, this build "
                          "reads versions 1 to %u", version, CKPT_VERSION);
    if (payload != len - CKPT_HEADER - 4u)
        return sk_err_set(err, SK_ECORRUPT, "checkpoint", "truncated or extended: %llu bytes "
                          "for a payload of %llu", (unsigned long long)len,
                          (unsigned long long)payload);
    uint32_t crc;
    memcpy(&crc, b + len - 4, 4);
    if (sk__crc32c(0, b, (size_t)(len - 4)) != crc)
        return sk_err_set(err, SK_ECORRUPT, "checkpoint", "checksum mismatch");
    sk_limits_t caps;
    sk__limits_resolve(limits, &caps);
    sk_net_t *net = sk_alloc_aligned(1, sizeof *net);
    if (!net)
        return sk_err_set(err, SK_ENOMEM, "", "out of memory");
    net->par.n_threads = 1;
    rd_t r = {.p = b + CKPT_HEADER, .len = payload, .version = version, .err = err};
    int rc = get_all(&r, net, &caps);
    if (!rc && net->bytes > net->limits.max_bytes) {
        sk_err_set(err, SK_ELIMIT, "checkpoint", "the network exceeds the memory limit");
        r.bad = 3;
    }
    if (r.bad) {
        sk__net_free(net);
        return r.bad == 2 ? SK_ENOMEM : r.bad == 3 ? SK_ELIMIT : r.bad == 4 ? SK_EVERSION
                                                                          : SK_ECORRUPT;
    }
    *out = net;
    return 0;
}

int sk_net_clone(const sk_net_t *net, sk_net_t **out)
{
    uint64_t size = sk_net_checkpoint_size(net), len;
    void *buf = sk_malloc(size);
    if (!buf)
        return SK_ENOMEM;
    int rc = sk_net_checkpoint(net, buf, size, &len);
    if (!rc)
        rc = sk_net_restore(buf, len, &net->limits, out, NULL);
    sk_free(buf);
    return rc;
}
