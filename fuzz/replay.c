/*
 * Replay driver for fuzz targets in ordinary builds: feeds every file of the corpus
 * directories named on the command line to LLVMFuzzerTestOneInput once.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        if (d == NULL) {
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char *path = cvma_path_join(argv[i], e->d_name);
            struct cvma_buf b;
            if (path != NULL && cvma_file_read(path, 1 << 24, &b) == CVMA_OK) {
                LLVMFuzzerTestOneInput(b.p, b.len);
                cvma_buf_free(&b);
                n++;
            }
            free(path);
        }
        closedir(d);
    }
    /* Also the empty input and a few short ones. */
    static const uint8_t z[16] = {0};
    for (size_t k = 0; k <= sizeof z; k++) {
        LLVMFuzzerTestOneInput(z, k);
    }
    printf("replayed %d corpus files\n", n);
    return 0;
}
