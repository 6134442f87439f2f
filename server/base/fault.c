/* fault.c: test-only fault injection (see fault.h). Without SPIKED_FAULT_INJECTION (the
 * release build) only the "no fault" answers below the #else are compiled. */
#include "base/fault.h"

#ifdef SPIKED_FAULT_INJECTION

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "spiked/sk_error.h"

static srv_fault_ckpt_t g_ckpt;
static int g_step_rc;
static long g_step_nth;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_long g_writes, g_chunks;

static void parse_ckpt(void)
{
    const char *v = getenv("SPIKED_FAULT_CKPT");
    unsigned long long at = 0;
    long nth = 1;
    char kind[16] = "";
    if (!v || sscanf(v, "%15[a-z]@%llu#%ld", kind, &at, &nth) < 2)
        return;
    if (strcmp(kind, "enospc") && strcmp(kind, "eio") && strcmp(kind, "pause")) {
        srv_log(SRV_LOG_ERROR, "SPIKED_FAULT_CKPT=%s: unknown fault; ignored", v);
        return;
    }
    snprintf(g_ckpt.kind, sizeof g_ckpt.kind, "%s", kind);
    g_ckpt.at = at;
    g_ckpt.nth = nth;
    srv_log(SRV_LOG_WARN, "SPIKED_FAULT_CKPT=%s: test-only fault injection is on", v);
}

static void parse_step(void)
{
    const char *v = getenv("SPIKED_FAULT_STEP");
    long nth = 1;
    char kind[16] = "";
    if (!v || sscanf(v, "%15[a-z]#%ld", kind, &nth) < 1)
        return;
    if (!strcmp(kind, "internal"))
        g_step_rc = SK_EINVAL;
    else if (!strcmp(kind, "enomem"))
        g_step_rc = SK_ENOMEM;
    else {
        srv_log(SRV_LOG_ERROR, "SPIKED_FAULT_STEP=%s: unknown fault; ignored", v);
        return;
    }
    g_step_nth = nth;
    srv_log(SRV_LOG_WARN, "SPIKED_FAULT_STEP=%s: test-only fault injection is on", v);
}

static void parse(void)
{
    parse_ckpt();
    parse_step();
}

const srv_fault_ckpt_t *srv_fault_ckpt_next(void)
{
    pthread_once(&g_once, parse);
    long n = atomic_fetch_add(&g_writes, 1) + 1;
    return g_ckpt.kind[0] && n == g_ckpt.nth ? &g_ckpt : NULL;
}

int srv_fault_ckpt_strike(const srv_fault_ckpt_t *f)
{
    if (!strcmp(f->kind, "pause")) {
        srv_log(SRV_LOG_WARN, "SPIKED_FAULT_CKPT: pausing the checkpoint write");
        sleep(60);
        return 0;
    }
    errno = !strcmp(f->kind, "enospc") ? ENOSPC : EIO;
    return -1;
}

int srv_fault_step(void)
{
    pthread_once(&g_once, parse);
    long n = atomic_fetch_add(&g_chunks, 1) + 1;
    return g_step_rc && n == g_step_nth ? g_step_rc : 0;
}

#else /* the release build: no fault, ever */

const srv_fault_ckpt_t *srv_fault_ckpt_next(void)
{
    return 0;
}

int srv_fault_ckpt_strike(const srv_fault_ckpt_t *f)
{
    (void)f;
    return 0;
}

int srv_fault_step(void)
{
    return 0;
}

#endif
