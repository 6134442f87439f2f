/* nest_util.h: numerics that several NEST model descriptions share (internal): the exact
 * propagators of the iaf_psc_* models and NEST's conversion of a time in ms to whole steps.
 * Written from NEST's semantics, not its code: libnestutil/iaf_propagator.cpp L47-117 and
 * nestkernel/nest_time.h L306-310, L508-522 (nest-simulator @84b06d8). All in double. */
#ifndef SPIKED_NEST_UTIL_H
#define SPIKED_NEST_UTIL_H

#include <math.h>

/* NEST's stability bound of the regular alpha propagator: h > 1e-7 * tau_m^2 / |tau_m - tau_syn|. */
#define SK_NEST_PROP_STABILITY 1e-7

/* e, for the alpha synapses' PSC normalisation (M_E is not C11). */
#define SK_E 2.718281828459045235

/* The propagator from the synaptic current to V over h (iaf_psc_exp's P21, iaf_psc_alpha's
 * P32): (beta/C_m) * exp(-h/tau_syn) * expm1(h/beta), beta = tau_syn*tau_m/(tau_m - tau_syn).
 * Where that is not a normal positive number (tau_m == tau_syn, or too close), the singular
 * limit h/C_m * exp(-h/tau_m). */
static inline double sk_iaf_prop_exp(double tau_syn, double tau_m, double c_m, double h)
{
    const double beta = tau_syn * tau_m / (tau_m - tau_syn);
    const double inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m);
    const double p = beta / c_m * exp(-h / tau_syn) * expm1(h * inv_beta);
    if (isnormal(p) && p > 0.0)
        return p;
    return h / c_m * exp(-h / tau_m);
}

/* iaf_psc_alpha's P31, the propagator from dI/dt to V: (beta/C_m) * exp(-h/tau_syn) *
 * (beta*expm1(h/beta) - h) in the regular case, h^2/(2 C_m) * exp(-h/tau_m) below NEST's
 * stability bound. */
static inline double sk_iaf_prop_alpha31(double tau_syn, double tau_m, double c_m, double h)
{
    const double h_min = SK_NEST_PROP_STABILITY * tau_m * tau_m / fabs(tau_m - tau_syn);
    if (h > h_min) {
        const double beta = tau_syn * tau_m / (tau_m - tau_syn);
        const double inv_beta = (tau_m - tau_syn) / (tau_syn * tau_m);
        return beta / c_m * exp(-h / tau_syn) * (beta * expm1(h * inv_beta) - h);
    }
    return 0.5 * h * h / c_m * exp(-h / tau_m);
}

/* Whole steps of a duration t ms at step h ms, as NEST's Time(Time::ms(t)).get_steps():
 * t rounded to tics (1000 per ms, half up), then rounded UP to whole steps of h (itself a
 * whole number of tics). t_ref = 2.05 ms at h = 0.1 ms gives 21 steps. */
static inline double sk_nest_steps(double t_ms, double h_ms)
{
    const double tics = floor(t_ms * 1000.0 + 0.5);
    const double tics_per_step = floor(h_ms * 1000.0 + 0.5);
    return ceil(tics / tics_per_step);
}

#endif
