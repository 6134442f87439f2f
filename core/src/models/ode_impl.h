/* ode_impl.h: the adaptive integrator of the ODE models, instantiated once per model (internal).
 *
 * A generated model file defines, before including this header:
 *   N_Y                      the number of ODE variables (<= 8)
 *   SK_ODE_RTOL, SK_ODE_ATOL per-variable error bound |err_i| <= atol + rtol * |y_i|
 *   SK_ODE_EVENT             1 when the model has a threshold event, else 0
 *   static void ode_rhs(const double *y, double *dy, const void *ctx);
 *   static double ode_event(const double *y, const void *ctx);   (with SK_ODE_EVENT)
 *   static void ode_action(double *y, void *ctx);               (with SK_ODE_EVENT)
 * and gets `static uint32_t ode_solve(double *y, double h, void *ctx)`: integrates y over
 * [0, h] (ms) and returns the number of events handled. Direct calls, no function pointers:
 * the same text compiles for the CPU and, with SK_HD = __host__ __device__, for CUDA.
 *
 * Why this integrator: NEST integrates its conductance models with GSL's adaptive RKF45
 * inside each step (models/iaf_cond_exp.cpp L349-413); spiked's conformance vectors hold the
 * accurate solution of the same right-hand side (tests/conformance/golden-nest/README.md).
 * An embedded Dormand-Prince 5(4) pair with tight tolerances (about 1e-10) reaches that
 * solution far below the 1e-4 tolerance; the sub-steps adapt to fast synapses (tau_syn
 * 0.2 ms) and to aeif's exponential upswing. Coefficients: Dormand & Prince (1980), Table 2
 * (RK5(4)7M); the systems are autonomous, so the nodes c_i are not needed.
 *
 * Events: after each accepted sub-step from t0 to t1, if the event function went from < 0
 * to >= 0, the crossing is located by bisection on single DP5 steps from t0 (each shorter
 * than an accepted step, so at least as accurate) to 1e-12 ms, the state is advanced to the
 * crossing, the action applied, and integration goes on from there. Deterministic: the same
 * inputs give the same sub-steps. No allocation: the state lives on the stack.
 */
#include <math.h>
#include <string.h>

#ifndef SK_HD
#define SK_HD
#endif

/* One DP5 step of size dt from y (k1 = f(y) given) into out; returns the error norm (<= 1:
 * acceptable). */
static SK_HD double ode_dp_step(const double *y, const double *k1, double dt, double *out,
                                const void *ctx)
{
    const double A21 = 1.0 / 5;
    const double A31 = 3.0 / 40, A32 = 9.0 / 40;
    const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
    const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561,
                 A54 = -212.0 / 729;
    const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176,
                 A65 = -5103.0 / 18656;
    const double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784,
                 B6 = 11.0 / 84;
    /* error weights b - b*, b* the 4th-order weights */
    const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920,
                 E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;
    double k2[N_Y], k3[N_Y], k4[N_Y], k5[N_Y], k6[N_Y], k7[N_Y], t[N_Y];
    for (int i = 0; i < N_Y; i++)
        t[i] = y[i] + dt * (A21 * k1[i]);
    ode_rhs(t, k2, ctx);
    for (int i = 0; i < N_Y; i++)
        t[i] = y[i] + dt * (A31 * k1[i] + A32 * k2[i]);
    ode_rhs(t, k3, ctx);
    for (int i = 0; i < N_Y; i++)
        t[i] = y[i] + dt * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
    ode_rhs(t, k4, ctx);
    for (int i = 0; i < N_Y; i++)
        t[i] = y[i] + dt * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
    ode_rhs(t, k5, ctx);
    for (int i = 0; i < N_Y; i++)
        t[i] = y[i] + dt * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
    ode_rhs(t, k6, ctx);
    for (int i = 0; i < N_Y; i++)
        out[i] = y[i] + dt * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
    ode_rhs(out, k7, ctx);
    double norm = 0.0;
    for (int i = 0; i < N_Y; i++) {
        const double e = dt * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] +
                               E7 * k7[i]);
        const double sc = SK_ODE_ATOL + SK_ODE_RTOL * fmax(fabs(y[i]), fabs(out[i]));
        const double r = fabs(e) / sc;
        norm = r > norm ? r : norm;
    }
    return isfinite(norm) ? norm : INFINITY;
}

static SK_HD uint32_t ode_solve(double *y, double h, void *ctx)
{
    double k1[N_Y], next[N_Y];
    double t = 0.0, dt = h;
    uint32_t events = 0;
    /* bounded: a system that needs more sub-steps than this in one step is not one of ours */
    for (uint32_t guard = 0; h - t > 1e-14 * h && guard < 1000000; guard++) {
        if (dt > h - t)
            dt = h - t;
        ode_rhs(y, k1, ctx);
        const double err = ode_dp_step(y, k1, dt, next, ctx);
        if (err > 1.0 && dt > 1e-12 * h) {
            const double f = 0.9 * pow(err, -0.2);
            dt *= f < 0.1 ? 0.1 : f;
            continue;
        }
#if SK_ODE_EVENT
        if (ode_event(y, ctx) < 0.0 && ode_event(next, ctx) >= 0.0) {
            /* locate the crossing in (0, dt] by bisection on single steps from y */
            double lo = 0.0, hi = dt;
            while (hi - lo > 1e-12) {
                const double mid = 0.5 * (lo + hi);
                double probe[N_Y];
                ode_dp_step(y, k1, mid, probe, ctx);
                if (ode_event(probe, ctx) >= 0.0)
                    hi = mid;
                else
                    lo = mid;
            }
            ode_dp_step(y, k1, hi, next, ctx);
            for (int i = 0; i < N_Y; i++)
                y[i] = next[i];
            ode_action(y, ctx);
            events++;
            t += hi;
            dt = h; /* the dynamics changed: let the controller start afresh */
            continue;
        }
#endif
        for (int i = 0; i < N_Y; i++)
            y[i] = next[i];
        t += dt;
        const double f = err > 0.0 ? 0.9 * pow(err, -0.2) : 5.0;
        dt *= f > 5.0 ? 5.0 : (f < 0.2 ? 0.2 : f);
    }
    return events;
}
