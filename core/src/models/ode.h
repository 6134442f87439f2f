/* ode.h: the adaptive integrator of the ODE models (internal). One neuron's small system
 * (at most SK_ODE_MAX variables) over one step, in double: Dormand-Prince 5(4) with error
 * control, and an optional threshold event located inside the step. The generator
 * (core/models/gen.py) emits each model's right-hand side, event and action from its
 * description and calls sk_ode_solve through ODE_SOLVE. */
#ifndef SPIKED_ODE_H
#define SPIKED_ODE_H

#include <stdint.h>

#define SK_ODE_MAX 8

typedef struct sk_ode_sys {
    uint32_t n; /* variables, <= SK_ODE_MAX */
    /* dy = f(y); ctx: the neuron's constants and other state (read only) */
    void (*rhs)(const double *y, double *dy, const void *ctx);
    /* NULL, or the event function: the event happens where it crosses 0 upwards */
    double (*event)(const double *y, const void *ctx);
    /* the event's action on y and ctx (reset, jumps, refractory count) */
    void (*action)(double *y, void *ctx);
    double rtol, atol; /* per variable: |err_i| <= atol + rtol * |y_i| */
} sk_ode_sys_t;

/* Integrates y over [0, h] (ms) and returns the number of events that happened (each located
 * to within 1e-12 ms and followed by the action, then the rest of the interval). */
uint32_t sk_ode_solve(const sk_ode_sys_t *sys, double *y, double h, void *ctx);

#endif
