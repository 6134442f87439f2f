/* util.c: small helpers declared in srv.h (time, names). */
#include <string.h>

#include "spiked/proto.h"
#include "base/srv.h"

uint64_t srv_now_ns(void)
{
    return uv_hrtime();
}

uint64_t srv_now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

int srv_name_valid(const char *name)
{
    return sk_proto_name_check(name, "", NULL) == 0;
}
