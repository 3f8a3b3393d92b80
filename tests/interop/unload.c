/* libcvmattest.so loaded with dlopen, used, unloaded: OpenSSL and jansson, which the program
 * keeps using, must not call into the unloaded library (its allocators). */
#include <dlfcn.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/crypto.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    const char *(*name)(int) = (const char *(*)(int))dlsym(h, "cvma_result_status_name");
    json_t *kept = json_string("made while the library was loaded");
    void *okept = OPENSSL_malloc(64);
    if (name == NULL || name(0) == NULL || kept == NULL || okept == NULL || dlclose(h) != 0) {
        fprintf(stderr, "load, call or unload failed\n");
        return 3;
    }
    if (dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) != NULL) {
        fprintf(stderr, "the library stayed loaded after dlclose\n");
        return 5; /* nothing tested */
    }
    json_t *j = json_string("after unload");
    void *p = OPENSSL_malloc(100);
    OPENSSL_free(p);
    OPENSSL_free(okept);
    json_decref(j);
    json_decref(kept);
    puts("unloaded cleanly");
    return j != NULL && p != NULL ? 0 : 4;
}
