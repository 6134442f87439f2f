/* registry.c: the model table, built from models.def, and the generic parameter checks that
 * read the descriptors' field tables. Nothing here knows any particular model. */
#include <math.h>
#include <string.h>

#include "spiked/sk_model.h"

#define X(name) extern const sk_model_t sk_model_##name;
#include "models.def"
#undef X

static const sk_model_t *const g_models[] = {
#define X(name) &sk_model_##name,
#include "models.def"
#undef X
};

#define N_MODELS ((uint32_t)(sizeof g_models / sizeof g_models[0]))

uint32_t sk_model_count(void)
{
    return N_MODELS;
}

const sk_model_t *sk_model_at(uint32_t index)
{
    return index < N_MODELS ? g_models[index] : NULL;
}

const sk_model_t *sk_model_find(const char *name)
{
    if (!name)
        return NULL;
    for (uint32_t k = 0; k < N_MODELS; k++)
        if (strcmp(g_models[k]->name, name) == 0)
            return g_models[k];
    return NULL;
}

static int field_index(const sk_field_t *f, uint32_t n, const char *name)
{
    if (!name)
        return SK_ENOENT;
    for (uint32_t k = 0; k < n; k++)
        if (strcmp(f[k].name, name) == 0)
            return (int)k;
    return SK_ENOENT;
}

int sk_model_param_index(const sk_model_t *m, const char *name)
{
    return field_index(m->params, m->n_params, name);
}

int sk_model_state_index(const sk_model_t *m, const char *name)
{
    return field_index(m->state, m->n_state, name);
}

int sk_model_input_index(const sk_model_t *m, const char *name)
{
    if (!name)
        return SK_ENOENT;
    for (uint32_t k = 0; k < m->n_inputs; k++)
        if (strcmp(m->inputs[k], name) == 0)
            return (int)k;
    return SK_ENOENT;
}

int sk_model_state_lo(const sk_model_t *m, uint32_t k)
{
    if (k >= m->n_state || (m->state[k].flags & SK_FIELD_LO_PART))
        return -1;
    const size_t len = strlen(m->state[k].name);
    for (uint32_t j = 0; j < m->n_state; j++)
        if ((m->state[j].flags & SK_FIELD_LO_PART) && strncmp(m->state[j].name, m->state[k].name, len) == 0 &&
            strcmp(m->state[j].name + len, "_lo") == 0)
            return (int)j;
    return -1;
}

void sk_model_defaults(const sk_model_t *m, double *p)
{
    for (uint32_t k = 0; k < m->n_params; k++)
        p[k] = m->params[k].dflt;
}

int sk_field_check(const sk_field_t *f, double value, sk_err_t *err)
{
    if (isnan(value) || (isinf(value) && !(f->flags & SK_FIELD_INF_OK)))
        return sk_err_set(err, SK_ERANGE, f->name, "must be a finite number");
    int lo_ok = (f->flags & SK_FIELD_LO_OPEN) ? value > f->lo : value >= f->lo;
    int hi_ok = (f->flags & SK_FIELD_HI_OPEN) ? value < f->hi : value <= f->hi;
    if (lo_ok && hi_ok)
        return 0;
    return sk_err_set(err, SK_ERANGE, f->name, "must be in %c%g, %g%c %s (got %g)",
                      (f->flags & SK_FIELD_LO_OPEN) ? '(' : '[', f->lo, f->hi,
                      (f->flags & SK_FIELD_HI_OPEN) ? ')' : ']', f->unit, value);
}

int sk_model_check_params(const sk_model_t *m, const double *p, sk_err_t *err)
{
    for (uint32_t k = 0; k < m->n_params; k++) {
        int rc = sk_field_check(&m->params[k], p[k], err);
        if (rc)
            return rc;
    }
    return m->check ? m->check(p, err) : 0;
}

double sk_model_dt(const sk_model_t *m, double dt_ms)
{
    return dt_ms * m->time_scale;
}
