// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvramctl: drive a knvram partition from the shell (busybox has no
 * ioctl). Used by the demo board and by the host-side power-cycle tests.
 *
 *   knvramctl write NAME OFFSET TEXT [OFFSET TEXT]...
 *                                      write each TEXT at its OFFSET (no
 *                                      transaction; all synced at once when
 *                                      the file is closed)
 *   knvramctl hold NAME OFFSET TEXT    write TEXT, print "ready", then keep
 *                                      the file open (no sync) until killed
 *   knvramctl read NAME OFFSET LEN     print LEN bytes at OFFSET as text
 *   knvramctl fill NAME BYTE [COUNT]   COUNT times (default 1): one
 *                                      transaction writing BYTE+i over the
 *                                      whole partition, commit, fsync;
 *                                      prints "synced N" after each
 *   knvramctl check NAME               "uniform 0xNN" if every byte is the
 *                                      same, "mixed" otherwise
 *   knvramctl txn NAME OFFSET TEXT...  write the TEXTs one after the other
 *                                      in one transaction and commit
 *   knvramctl put FILE VALUE           write VALUE and a newline to FILE
 *                                      (a sysfs or configfs attribute) in
 *                                      one write(); on failure print
 *                                      "knvramctl: FILE: STRERROR", exit 1
 *   knvramctl ubi rmvol UBI VOLID      remove volume VOLID of /dev/ubiUBI
 *   knvramctl ubi detach UBI           detach UBI device UBI
 *   knvramctl ubi attach MTD           attach MTD device MTD to UBI
 *                                      (busybox has no UBI tools); print
 *                                      "ok" or "error ERRNO (TEXT)"
 *   knvramctl ubi bytes FILE OFF LEN   how often each byte value occurs in
 *                                      LEN bytes of FILE (a UBI volume) at
 *                                      OFF: "0xNN:COUNT ..."
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/knvram.h>
#include <mtd/ubi-user.h>

static int open_part(const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/knvram/%s", name);
	fd = open(path, flags);
	if (fd < 0) {
		fprintf(stderr, "knvramctl: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void die(const char *what)
{
	fprintf(stderr, "knvramctl: %s: %s\n", what, strerror(errno));
	exit(1);
}

static off_t part_size(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (size < 0)
		die("lseek");
	return size;
}

static void pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n <= 0)
			die("pwrite");
		p += n;
		off += n;
		len -= n;
	}
}

static int cmd_fill(const char *name, int byte, int count)
{
	int fd = open_part(name, O_RDWR);
	off_t size = part_size(fd);
	size_t chunk = 65536;
	char *buf = malloc(chunk);
	int i;

	if (!buf)
		die("malloc");
	for (i = 0; i < count; i++) {
		off_t off;

		memset(buf, (byte + i) & 0xff, chunk);
		if (ioctl(fd, KNVRAMIOC_TBEGIN))
			die("TBEGIN");
		for (off = 0; off < size; off += chunk)
			pwrite_all(fd, buf, size - off < (off_t)chunk ?
				   (size_t)(size - off) : chunk, off);
		if (ioctl(fd, KNVRAMIOC_TCOMMIT))
			die("TCOMMIT");
		if (fsync(fd))
			die("fsync");
		printf("synced 0x%02x\n", (byte + i) & 0xff);
		fflush(stdout);
	}
	free(buf);
	return close(fd) ? 1 : 0;
}

static int cmd_check(const char *name)
{
	int fd = open_part(name, O_RDONLY);
	off_t size = part_size(fd), off;
	unsigned char buf[65536];
	int first = -1;

	for (off = 0; off < size; ) {
		ssize_t n = pread(fd, buf, sizeof(buf), off), i;

		if (n <= 0)
			die("pread");
		if (first < 0)
			first = buf[0];
		for (i = 0; i < n; i++) {
			if (buf[i] != first) {
				printf("mixed at %lld\n", (long long)(off + i));
				return 0;
			}
		}
		off += n;
	}
	printf("uniform 0x%02x\n", first);
	return 0;
}

/*
 * The UBI ioctls that ubirmvol, ubidetach and ubiattach would issue: @num
 * is the UBI device (rmvol, detach) or the MTD device (attach).
 */
static int cmd_ubi(const char *op, int num, int vol)
{
	char path[64];
	int fd, ret;

	if (!strcmp(op, "rmvol")) {
		__s32 vol_id = vol;

		snprintf(path, sizeof(path), "/dev/ubi%d", num);
		fd = open(path, O_RDONLY);
		ret = fd < 0 ? -1 : ioctl(fd, UBI_IOCRMVOL, &vol_id);
	} else if (!strcmp(op, "detach")) {
		__s32 ubi_num = num;

		fd = open("/dev/ubi_ctrl", O_RDONLY);
		ret = fd < 0 ? -1 : ioctl(fd, UBI_IOCDET, &ubi_num);
	} else if (!strcmp(op, "attach")) {
		struct ubi_attach_req req = {
			.ubi_num = UBI_DEV_NUM_AUTO,
			.mtd_num = num,
		};

		fd = open("/dev/ubi_ctrl", O_RDONLY);
		ret = fd < 0 ? -1 : ioctl(fd, UBI_IOCATT, &req);
	} else {
		fprintf(stderr, "knvramctl: unknown ubi operation %s\n", op);
		return 2;
	}
	if (ret < 0) {
		printf("error %d (%s)\n", errno, strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int cmd_bytes(const char *path, off_t off, off_t len)
{
	static unsigned char buf[65536];
	long long count[256] = { 0 };
	int fd = open(path, O_RDONLY), i;

	if (fd < 0)
		die(path);
	while (len > 0) {
		ssize_t n = pread(fd, buf, len < (off_t)sizeof(buf) ?
				  (size_t)len : sizeof(buf), off);

		if (n <= 0)
			die("pread");
		for (i = 0; i < n; i++)
			count[buf[i]]++;
		off += n;
		len -= n;
	}
	for (i = 0; i < 256; i++)
		if (count[i])
			printf("0x%02x:%lld ", i, count[i]);
	printf("\n");
	return close(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int fd, i;

	if (!strcmp(cmd, "write") && argc >= 5 && argc % 2) {
		fd = open_part(argv[2], O_RDWR);
		for (i = 3; i < argc; i += 2)
			pwrite_all(fd, argv[i + 1], strlen(argv[i + 1]),
				   atoll(argv[i]));
		return close(fd) ? 1 : 0;
	}
	if (!strcmp(cmd, "hold") && argc == 5) {
		fd = open_part(argv[2], O_RDWR);
		pwrite_all(fd, argv[4], strlen(argv[4]), atoll(argv[3]));
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(cmd, "read") && argc == 5) {
		size_t len = atoll(argv[4]);
		char *buf = calloc(1, len + 1);
		ssize_t n;

		fd = open_part(argv[2], O_RDONLY);
		if (!buf)
			die("calloc");
		n = pread(fd, buf, len, atoll(argv[3]));
		if (n < 0)
			die("pread");
		printf("%s\n", buf);
		return 0;
	}
	if (!strcmp(cmd, "fill") && (argc == 4 || argc == 5))
		return cmd_fill(argv[2], strtol(argv[3], NULL, 0),
				argc == 5 ? atoi(argv[4]) : 1);
	if (!strcmp(cmd, "check") && argc == 3)
		return cmd_check(argv[2]);
	if (!strcmp(cmd, "txn") && argc >= 5) {
		off_t off = atoll(argv[3]);

		fd = open_part(argv[2], O_RDWR);
		if (ioctl(fd, KNVRAMIOC_TBEGIN))
			die("TBEGIN");
		for (i = 4; i < argc; i++) {
			pwrite_all(fd, argv[i], strlen(argv[i]), off);
			off += strlen(argv[i]);
		}
		if (ioctl(fd, KNVRAMIOC_TCOMMIT))
			die("TCOMMIT");
		return close(fd) ? 1 : 0;
	}
	if (!strcmp(cmd, "put") && argc == 4) {
		char buf[256];
		int len = snprintf(buf, sizeof(buf), "%s\n", argv[3]);

		if (len < 0 || len >= (int)sizeof(buf)) {
			fprintf(stderr, "knvramctl: value too long\n");
			return 2;
		}
		fd = open(argv[2], O_WRONLY);
		if (fd < 0 || write(fd, buf, len) != len || close(fd))
			die(argv[2]);
		return 0;
	}
	if (!strcmp(cmd, "ubi") && argc == 6 && !strcmp(argv[2], "bytes"))
		return cmd_bytes(argv[3], atoll(argv[4]), atoll(argv[5]));
	if (!strcmp(cmd, "ubi") && argc == 5 && !strcmp(argv[2], "rmvol"))
		return cmd_ubi(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(cmd, "ubi") && argc == 4 && strcmp(argv[2], "rmvol"))
		return cmd_ubi(argv[2], atoi(argv[3]), 0);
	fprintf(stderr,
		"usage: knvramctl write NAME OFFSET TEXT [OFFSET TEXT]...\n"
		"       knvramctl hold NAME OFFSET TEXT\n"
		"       knvramctl read NAME OFFSET LEN\n"
		"       knvramctl fill NAME BYTE [COUNT]\n"
		"       knvramctl check NAME\n"
		"       knvramctl txn NAME OFFSET TEXT...\n"
		"       knvramctl put FILE VALUE\n"
		"       knvramctl ubi rmvol UBI VOLID\n"
		"       knvramctl ubi detach|attach NUM\n"
		"       knvramctl ubi bytes FILE OFFSET LEN\n");
	return 2;
}
