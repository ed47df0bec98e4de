/*
 * replay_main.c -- a plain main() for a libFuzzer-style target: feeds every
 * file named on the command line (directories are walked one level) to
 * LLVMFuzzerTestOneInput.  Used by `make test` to replay the seed corpora
 * and every committed crash, with no fuzzer needed.
 *
 * Prints "replayed N inputs" and exits 0; a crash or sanitizer report ends
 * the process non-zero, which the runner reports as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int replay_file(const char *path)
{
    static uint8_t buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n;
    uint8_t *copy;
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* an exact-size heap copy, so ASan catches a read past the input */
    copy = malloc(n ? n : 1);
    if (!copy)
        return -1;
    memcpy(copy, buf, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    replayed++;
    return 0;
}

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such path %s\n", argv[i]);
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            if (!d)
                return 2;
            while ((e = readdir(d)) != NULL) {
                char p[4096];
                if (e->d_name[0] == '.')
                    continue;
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                if (replay_file(p) != 0)
                    return 2;
            }
            closedir(d);
        } else if (replay_file(argv[i]) != 0) {
            return 2;
        }
    }
    printf("replayed %lu inputs\n", replayed);
    return replayed ? 0 : 3; /* an empty corpus is an error, not a pass */
}
