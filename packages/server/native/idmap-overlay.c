// atoll-idmap-overlay: mounts a sandbox's root filesystem as an overlay whose layers are idmapped
// mounts, so the same storage (owned by the shared storage range, e.g. 100000..165535) appears
// owned by the sandbox's own host uid range. One process does it all because the driver calls it
// on every sandbox start (a Python or shell equivalent costs 10-100x more start-up time).
//
// usage: atoll-idmap-overlay FROM TO COUNT LOWER DISK STAGE TARGET
//   FROM TO COUNT  storage ids FROM..FROM+COUNT-1 appear as TO..TO+COUNT-1 (uid and gid); id 0
//                  stays 0 so the mounter (root) can create overlay's work dirs
//   LOWER          read-only lower layer (the uid-shifted template rootfs)
//   DISK           mounted disk holding upper/ and work/
//   STAGE          empty dir: idmapped clones are attached at STAGE/l and STAGE/d for the overlay
//                  mount, then detached (overlay keeps its own references to them)
//   TARGET         where the overlay is mounted (nosuid, nodev)
// Every mount made here is nosuid,nodev. Exit 0 on success; a message on stderr otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define OPEN_TREE_CLONE_ 1
#define AT_RECURSIVE_ 0x8000
#define MOVE_MOUNT_F_EMPTY_PATH_ 0x4
#define MOUNT_ATTR_NOSUID_ 0x2
#define MOUNT_ATTR_NODEV_ 0x4
#define MOUNT_ATTR_IDMAP_ 0x100000

struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static void die(const char *what, const char *arg) {
  fprintf(stderr, "atoll-idmap-overlay: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  exit(1);
}

static void write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open", path);
  if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) die("write", path);
  close(fd);
}

// A user namespace whose maps say "0 0 1" and "FROM TO COUNT": held only through the returned fd.
static int make_userns(unsigned long from, unsigned long to, unsigned long count) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) die("pipe", NULL);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) die("pipe", NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork", NULL);
  if (pid == 0) {
    char c = 0;
    close(go[1]);
    close(ready[0]);
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(ready[1], &c, 1) != 1) _exit(1);
    if (read(go[0], &c, 1) < 0) _exit(1); // parent opened the ns: done
    _exit(0);
  }
  close(ready[1]);
  char c;
  if (read(ready[0], &c, 1) != 1) { errno = ECHILD; die("unshare(CLONE_NEWUSER)", NULL); }
  char path[64], map[128];
  snprintf(map, sizeof map, "0 0 1\n%lu %lu %lu\n", from, to, count);
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  write_file(path, map);
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  write_file(path, map);
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open", path);
  close(go[1]);
  waitpid(pid, NULL, 0);
  return fd;
}

static void attach_idmapped(int userns, const char *src, const char *dst) {
  int fd = syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE_ | O_CLOEXEC);
  if (fd < 0) die("open_tree", src);
  struct mount_attr_ a = { MOUNT_ATTR_IDMAP_ | MOUNT_ATTR_NOSUID_ | MOUNT_ATTR_NODEV_, 0, 0, (uint64_t)userns };
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a) < 0) die("mount_setattr(idmap)", src);
  if (mkdir(dst, 0700) < 0 && errno != EEXIST) die("mkdir", dst);
  if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH_) < 0) die("move_mount", dst);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: atoll-idmap-overlay FROM TO COUNT LOWER DISK STAGE TARGET\n");
    return 2;
  }
  unsigned long from = strtoul(argv[1], NULL, 10), to = strtoul(argv[2], NULL, 10), count = strtoul(argv[3], NULL, 10);
  if (!from || !to || !count) { fprintf(stderr, "atoll-idmap-overlay: FROM, TO and COUNT must be positive\n"); return 2; }
  const char *lower = argv[4], *disk = argv[5], *stage = argv[6], *target = argv[7];
  char l[4096], d[4096], opts[16384];
  snprintf(l, sizeof l, "%s/l", stage);
  snprintf(d, sizeof d, "%s/d", stage);
  int userns = make_userns(from, to, count);
  attach_idmapped(userns, lower, l);
  attach_idmapped(userns, disk, d);
  snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", l, d, d);
  int rc = mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts);
  int err = errno;
  umount2(l, MNT_DETACH);
  umount2(d, MNT_DETACH);
  if (rc < 0) { errno = err; die("mount overlay on", target); }
  return 0;
}
