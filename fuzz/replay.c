/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over every file of
 * the directories (or files) given, without libFuzzer, so the gcc builds of
 * `make test` (plain and ASan+UBSan) replay each seed corpus and every crash
 * input found so far (fuzz/CMakeLists.txt's replay_* tests). Exit 0, or 1 when
 * a path cannot be read; a crash is the sanitizers' to report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return 1;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (!r)
            break;
        len += r;
    }
    fclose(f);
    /* an exact-size copy, so ASan sees a read past the input's end */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact) {
        if (len)
            memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        (*n)++;
    }
    free(buf);
    return exact ? 0 : 1;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            perror(argv[i]);
            bad = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= run_file(argv[i], &n);
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            bad |= run_file(path, &n);
        }
        if (d)
            closedir(d);
    }
    printf("replayed %zu inputs\n", n);
    return bad || !n;
}
