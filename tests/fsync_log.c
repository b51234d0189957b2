/* LD_PRELOAD shim for redis-server: log what a power loss would keep.

   After each successful fsync/fdatasync of a regular file it appends one line,
   "<size> <path>", to the file named by $FSYNC_LOG. The size is taken before
   the call: bytes written while it runs (another thread) may not be on disk.
   tests/servers.py builds it and truncates files to their last logged size to
   simulate the machine losing power, which SIGKILL alone does not (the kernel
   keeps what the process wrote). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long long size_of(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (long long)st.st_size;
}

static void note(int fd, long long size) {
    const char *log = getenv("FSYNC_LOG");
    char link[64], path[4096], line[4200];
    ssize_t n;
    int out, len;
    if (!log || size < 0) return;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = '\0';
    len = snprintf(line, sizeof line, "%lld %s\n", size, path);
    out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out < 0) return;
    if (write(out, line, (size_t)len) != len) { /* best effort: a lost line errs towards loss */ }
    close(out);
}

int fdatasync(int fd) {
    static int (*real)(int);
    long long size = size_of(fd);
    int rc;
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    rc = real(fd);
    if (rc == 0) note(fd, size);
    return rc;
}

int fsync(int fd) {
    static int (*real)(int);
    long long size = size_of(fd);
    int rc;
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    rc = real(fd);
    if (rc == 0) note(fd, size);
    return rc;
}
