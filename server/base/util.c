/* util.c: small helpers declared in srv.h (time, names, reading a file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int srv_read_file(const char *path, uint64_t max_bytes, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}
