/* A guest-side vsock client and server for tests/e2e/vsock_test.py (busybox has no vsock
 * tools). Built static for riscv64 by the test.
 *   vsock_probe listen PORT         accept one connection, read a line, answer
 *                                   "guest got: <line>", close
 *   vsock_probe connect CID PORT M  connect, send "M\n", print "host said: <reply line>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* After sys/socket.h: it needs struct sockaddr and sa_family_t. */
#include <linux/vm_sockets.h>

static int read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t got = read(fd, buf + n, 1);
    if (got <= 0) break;
    if (buf[n] == '\n') break;
    n++;
  }
  buf[n] = 0;
  return (int)n;
}

static struct sockaddr_vm address(unsigned cid, unsigned port) {
  struct sockaddr_vm a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  return a;
}

int main(int argc, char **argv) {
  char line[256], reply[300];
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) return perror("socket"), 1;
  if (argc == 3 && strcmp(argv[1], "listen") == 0) {
    struct sockaddr_vm a = address(VMADDR_CID_ANY, (unsigned)atoi(argv[2]));
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0) {
      return perror("bind/listen"), 1;
    }
    printf("vsock_probe: listening on %s\n", argv[2]);
    fflush(stdout);
    int c = accept(fd, NULL, NULL);
    if (c < 0) return perror("accept"), 1;
    read_line(c, line, sizeof line);
    int n = snprintf(reply, sizeof reply, "guest got: %s\n", line);
    if (write(c, reply, (size_t)n) != n) return perror("write"), 1;
    printf("vsock_probe: answered '%s'\n", line);
    close(c);
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "connect") == 0) {
    struct sockaddr_vm a = address((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return perror("connect"), 1;
    int n = snprintf(line, sizeof line, "%s\n", argv[4]);
    if (write(fd, line, (size_t)n) != n) return perror("write"), 1;
    read_line(fd, reply, sizeof reply);
    printf("host said: %s\n", reply);
    return 0;
  }
  fprintf(stderr, "usage: vsock_probe listen PORT | connect CID PORT MESSAGE\n");
  return 2;
}
