// SPDX-License-Identifier: GPL-2.0-only
/*
 * knvram - command-line tool for knvram partitions.
 *
 * Lists backends and partitions (sysfs, configfs), reads, writes and
 * dumps partitions, runs batches of writes as one transaction, syncs,
 * follows commits with poll() and manages runtime partitions in configfs.
 * See Documentation/userspace-api/knvram-tool.rst.
 *
 * Exit codes: 0 success, 1 error from the kernel or the system,
 * 2 usage or bad input, 3 not supported by this kernel.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/knvram.h>

#define EXIT_KERNEL	1
#define EXIT_USAGE	2
#define EXIT_NOTSUP	3

#define DEV_DIR		"/dev/knvram"
#define CLASS_DIR	"/sys/class/knvram"
#define CFS_DIR		"/sys/kernel/config/knvram"

#define U64_MAX		(~(__u64)0)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Messages on stderr; sys_err adds strerror(errno) and is EXIT_KERNEL. */
#define msg(fmt, ...) \
	fprintf(stderr, "knvram: " fmt "\n", ##__VA_ARGS__)
#define sys_err(fmt, ...) \
	(fprintf(stderr, "knvram: " fmt ": %s\n", ##__VA_ARGS__, \
		 strerror(errno)), EXIT_KERNEL)

static int usage_err(const char *what)
{
	msg("%s (see 'knvram help')", what);
	return EXIT_USAGE;
}

static const char usage_text[] =
"usage: knvram COMMAND [ARGS]\n"
"\n"
"  list [--json]                  backends and partitions, with statistics\n"
"  info NAME                      state of a partition (KNVRAMIOC_INFO)\n"
"  create BACKEND NAME SIZE [--offset OFF] [--mode MODE] [--autot 0|1]\n"
"         [--read-only 0|1]\n"
"                                 make a runtime partition and enable it\n"
"  enable NAME | disable NAME     enable or disable a runtime partition\n"
"  remove NAME                    remove a runtime partition and its data\n"
"  read NAME [-o OFF] [-l LEN]    copy bytes to stdout\n"
"  dump NAME [-o OFF] [-l LEN]    hexdump bytes\n"
"  write NAME [-o OFF] [FILE|-]   write a file (default stdin) at OFF\n"
"  txn NAME [FILE|-]              batch of writes, all committed or none;\n"
"                                 lines 'OFFSET HEXBYTES' or 'OFFSET @FILE'\n"
"  sync NAME                      write the committed state to the backend\n"
"  watch NAME [-n COUNT]          print a line per commit (poll POLLPRI)\n"
"  format NAME                    format a partition (damaged or not): empty,\n"
"                                 valid, zeroes; refused while it is open\n"
"  format --label BACKEND         format a backend's damaged label area\n"
"  help                           print this text\n"
"\n"
"NAME is a partition of /dev/knvram; a runtime partition may be given as\n"
"BACKEND/NAME. Numbers take decimal, 0x hexadecimal and K, M, G suffixes.\n"
"Exit status: 0 ok, 1 error from the kernel, 2 usage or bad input,\n"
"3 not supported by this kernel.\n";

/* Parse a number with an optional K, M or G suffix. */
static int parse_num(const char *s, __u64 *v)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k':
		shift = 10;
		end++;
		break;
	case 'M': case 'm':
		shift = 20;
		end++;
		break;
	case 'G': case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end)
		return -1;
	if (shift && n > (U64_MAX >> shift))
		return -1;
	*v = (__u64)n << shift;
	return 0;
}

static int valid_name(const char *name)
{
	return *name && strlen(name) <= KNVRAM_NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/* Read a sysfs or configfs attribute, without its trailing newline. */
static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

static int write_attr(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	if (n >= 0 && (size_t)n != len) {
		errno = EIO;
		n = -1;
	}
	if (close(fd) && n >= 0)
		n = -1;
	return n < 0 ? -1 : 0;
}

static int open_part(const char *name, int flags, int *fd)
{
	char path[PATH_MAX];

	if (!valid_name(name))
		return usage_err("bad partition name");
	snprintf(path, sizeof(path), DEV_DIR "/%s", name);
	*fd = open(path, flags);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT) {
		snprintf(path, sizeof(path), CLASS_DIR "/%s", name);
		if (!access(path, F_OK)) {
			msg("%s has no " DEV_DIR "/%s: it is for kernel code only",
			    name, name);
			return EXIT_KERNEL;
		}
		errno = ENOENT;
	}
	return sys_err(DEV_DIR "/%s", name);
}

/*
 * Find the configfs directory of runtime partition ARG ("NAME" or
 * "BACKEND/NAME") into dir. Returns 0, EXIT_USAGE or EXIT_KERNEL.
 */
static int find_cfs(const char *arg, char *dir, size_t len)
{
	const char *slash = strchr(arg, '/');
	struct dirent *de;
	struct stat st;
	DIR *d;
	int found = 0;

	if (slash) {
		if (slash == arg || !valid_name(slash + 1) ||
		    strchr(slash + 1, '/'))
			return usage_err("bad partition name");
		snprintf(dir, len, CFS_DIR "/%s", arg);
		if (stat(dir, &st) || !S_ISDIR(st.st_mode))
			return sys_err("no runtime partition %s", dir);
		return 0;
	}
	if (!valid_name(arg))
		return usage_err("bad partition name");
	d = opendir(CFS_DIR);
	if (!d)
		return sys_err("%s", CFS_DIR);
	while ((de = readdir(d))) {
		char p[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), CFS_DIR "/%s/%s", de->d_name, arg);
		if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
			if (found++) {
				closedir(d);
				msg("%s is in more than one backend: give BACKEND/%s",
				    arg, arg);
				return EXIT_USAGE;
			}
			snprintf(dir, len, "%s", p);
		}
	}
	closedir(d);
	if (!found) {
		msg("no runtime partition %s in %s", arg, CFS_DIR);
		return EXIT_KERNEL;
	}
	return 0;
}

/* ---- list ---- */

static const char * const stats[] = {
	"size", "dirty", "autot", "commit_count", "abort_count", "sync_count",
	"sync_bytes", "sync_errors", "emergency_sync_count",
};

#define NSTATS ARRAY_SIZE(stats)

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A number as JSON, or null when the attribute is missing or not a number. */
static void json_num(const char *v)
{
	const char *p = v;

	if (!*p)
		goto null;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			goto null;
	fputs(v, stdout);
	return;
null:
	fputs("null", stdout);
}

static int names(const char *dir, char ***out, int *count)
{
	struct dirent **list;
	int i, j, n = scandir(dir, &list, NULL, alphasort);

	if (n < 0)
		return -1;
	*out = calloc(n + 1, sizeof(char *));
	if (!*out)
		return -1;
	for (i = 0, j = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.')
			(*out)[j++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	*count = j;
	return 0;
}

static void free_names(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The configfs state of partition NAME, "live" for a fixed one. */
static void part_state(const char *backend, const char *name, char *buf,
		       size_t len)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), CFS_DIR "/%s/%s/state", backend, name);
	if (read_attr(p, buf, len))
		snprintf(buf, len, "live");
}

static int cmd_list(int argc, char **argv)
{
	char **bk = NULL, **pt = NULL;
	int nb = 0, np = 0, i, j, json = 0, first;
	char p[PATH_MAX], v[128], backend[64], state[64];

	if (argc == 2 && !strcmp(argv[1], "--json"))
		json = 1;
	else if (argc != 1)
		return usage_err("list takes only --json");
	if (names(CLASS_DIR, &pt, &np)) {
		if (errno != ENOENT)
			return sys_err("%s", CLASS_DIR);
		msg("no %s: is knvram loaded?", CLASS_DIR);
		return EXIT_KERNEL;
	}
	if (names(CFS_DIR, &bk, &nb))
		nb = 0;	/* configfs not mounted: partitions only */

	if (json)
		printf("{\"backends\": [");
	else
		printf("%-16s %12s %12s %s\n", "BACKEND", "BLOCK_SIZE",
		       "SPACE", "STATE");
	for (i = 0; i < nb; i++) {
		char bs[64], sp[64];

		snprintf(p, sizeof(p), CFS_DIR "/%s/block_size", bk[i]);
		if (read_attr(p, bs, sizeof(bs)))
			bs[0] = '\0';
		snprintf(p, sizeof(p), CFS_DIR "/%s/space", bk[i]);
		if (read_attr(p, sp, sizeof(sp)))
			sp[0] = '\0';
		if (json) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_str(bk[i]);
			printf(", \"block_size\": ");
			json_num(bs);
			printf(", \"space\": ");
			json_num(sp);
			printf(", \"online\": %s}", *bs ? "true" : "false");
		} else {
			printf("%-16s %12s %12s %s\n", bk[i], *bs ? bs : "-",
			       *sp ? sp : "-", *bs ? "online" : "offline");
		}
	}
	if (json)
		printf("%s],\n \"partitions\": [", nb ? "\n " : "");
	else
		printf("\n%-16s %-16s %-10s %10s %10s %8s %8s %6s\n", "NAME",
		       "BACKEND", "STATE", "SIZE", "DIRTY", "COMMITS", "SYNCS",
		       "ERRORS");
	first = 1;
	for (i = 0; i < np; i++) {
		char val[NSTATS][64];

		snprintf(p, sizeof(p), CLASS_DIR "/%s/backend", pt[i]);
		if (read_attr(p, backend, sizeof(backend)))
			snprintf(backend, sizeof(backend), "?");
		part_state(backend, pt[i], state, sizeof(state));
		/* Damaged media (sysfs state) says more than "live". */
		snprintf(p, sizeof(p), CLASS_DIR "/%s/state", pt[i]);
		if (!read_attr(p, v, sizeof(v)) && !strcmp(v, "damaged"))
			snprintf(state, sizeof(state), "damaged");
		for (j = 0; j < (int)NSTATS; j++) {
			snprintf(p, sizeof(p), CLASS_DIR "/%s/%s", pt[i],
				 stats[j]);
			if (read_attr(p, val[j], sizeof(val[j])))
				val[j][0] = '\0';
		}
		if (json) {
			printf("%s\n  {\"name\": ", first ? "" : ",");
			json_str(pt[i]);
			printf(", \"backend\": ");
			json_str(backend);
			printf(", \"state\": ");
			json_str(state);
			for (j = 0; j < (int)NSTATS; j++) {
				printf(", \"%s\": ", stats[j]);
				json_num(val[j]);
			}
			putchar('}');
		} else {
			printf("%-16s %-16s %-10s %10s %10s %8s %8s %6s\n",
			       pt[i], backend, state, val[0], val[1], val[3],
			       val[5], val[7]);
		}
		first = 0;
	}
	/* Runtime partitions without a device: pending, disabled, failed. */
	for (i = 0; i < nb; i++) {
		char **rt;
		int nr;

		snprintf(p, sizeof(p), CFS_DIR "/%s", bk[i]);
		if (names(p, &rt, &nr))
			continue;
		for (j = 0; j < nr; j++) {
			struct stat st;

			snprintf(p, sizeof(p), CFS_DIR "/%s/%s", bk[i], rt[j]);
			if (stat(p, &st) || !S_ISDIR(st.st_mode))
				continue;
			snprintf(p, sizeof(p), CLASS_DIR "/%s", rt[j]);
			if (!access(p, F_OK))
				continue;
			part_state(bk[i], rt[j], state, sizeof(state));
			snprintf(p, sizeof(p), CFS_DIR "/%s/%s/size", bk[i],
				 rt[j]);
			if (read_attr(p, v, sizeof(v)))
				v[0] = '\0';
			if (json) {
				printf("%s\n  {\"name\": ", first ? "" : ",");
				json_str(rt[j]);
				printf(", \"backend\": ");
				json_str(bk[i]);
				printf(", \"state\": ");
				json_str(state);
				printf(", \"size\": ");
				json_num(v);
				putchar('}');
			} else {
				printf("%-16s %-16s %-10s %10s %10s %8s %8s %6s\n",
				       rt[j], bk[i], state, v, "-", "-", "-",
				       "-");
			}
			first = 0;
		}
		free_names(rt, nr);
	}
	if (json)
		printf("%s]}\n", first ? "" : "\n ");
	free_names(pt, np);
	free_names(bk, nb);
	return 0;
}

/* ---- info ---- */

static int get_info(int fd, struct knvram_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, KNVRAMIOC_INFO, info);
}

static int cmd_info(int argc, char **argv)
{
	static const struct { unsigned int bit; const char *name; } fl[] = {
		{ KNVRAM_INFO_WRITER, "writer" },
		{ KNVRAM_INFO_TXN, "txn" },
		{ KNVRAM_INFO_AUTOT, "autot" },
		{ KNVRAM_INFO_FROZEN, "frozen" },
		{ KNVRAM_INFO_READ_ONLY, "read-only" },
		{ KNVRAM_INFO_DAMAGED, "damaged" },
	};
	struct knvram_info info;
	char p[PATH_MAX], v[128];
	unsigned int i;
	int fd, ret;

	if (argc != 2)
		return usage_err("info takes a partition name");
	ret = open_part(argv[1], O_RDONLY, &fd);
	if (ret)
		return ret;
	if (get_info(fd, &info)) {
		if (errno != ENOTTY) {
			ret = sys_err("KNVRAMIOC_INFO on %s", argv[1]);
			close(fd);
			return ret;
		}
		close(fd);
		msg("KNVRAMIOC_INFO not supported by this kernel; from sysfs");
		printf("name: %s\n", argv[1]);
		for (i = 0; i < NSTATS + 1; i++) {
			const char *a = i < NSTATS ? stats[i] : "backend";

			snprintf(p, sizeof(p), CLASS_DIR "/%s/%s", argv[1], a);
			if (!read_attr(p, v, sizeof(v)))
				printf("%s: %s\n", a, v);
		}
		return 0;
	}
	close(fd);
	info.name[KNVRAM_INFO_NAME_LEN - 1] = '\0';
	info.backend[KNVRAM_INFO_NAME_LEN - 1] = '\0';
	printf("name: %s\n", info.name);
	printf("backend: %s\n", info.backend);
	printf("size: %llu\n", info.part_size);
	printf("block_size: %u\n", info.block_size);
	printf("generation: %llu\n", info.generation);
	printf("dirty: %llu\n", info.dirty_bytes);
	printf("commits: %llu\n", info.commits);
	printf("flags:");
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		if (info.flags & fl[i].bit)
			printf(" %s", fl[i].name);
	printf("\n");
	return 0;
}

/* ---- runtime partitions ---- */

static int set_attr(const char *dir, const char *attr, const char *val)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", dir, attr);
	if (write_attr(p, val))
		return sys_err("%s %s", attr, val);
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	const char *offset = NULL, *mode = NULL, *autot = NULL, *ro = NULL;
	char dir[PATH_MAX];
	__u64 n;
	int i, ret;

	if (argc < 4)
		return usage_err("create takes BACKEND NAME SIZE");
	for (i = 4; i < argc; i++) {
		if (i + 1 >= argc)
			return usage_err("option without a value");
		if (!strcmp(argv[i], "--offset"))
			offset = argv[++i];
		else if (!strcmp(argv[i], "--mode"))
			mode = argv[++i];
		else if (!strcmp(argv[i], "--autot"))
			autot = argv[++i];
		else if (!strcmp(argv[i], "--read-only"))
			ro = argv[++i];
		else
			return usage_err("unknown option");
	}
	if (!valid_name(argv[1]) || !valid_name(argv[2]))
		return usage_err("bad backend or partition name");
	if (parse_num(argv[3], &n) || !n)
		return usage_err("bad size");
	snprintf(dir, sizeof(dir), CFS_DIR "/%s", argv[1]);
	if (access(dir, F_OK))
		return sys_err("backend %s", dir);
	snprintf(dir, sizeof(dir), CFS_DIR "/%s/%s", argv[1], argv[2]);
	if (mkdir(dir, 0755))
		return sys_err("mkdir %s", dir);
	ret = set_attr(dir, "size", argv[3]);
	if (!ret && offset)
		ret = set_attr(dir, "offset", offset);
	if (!ret && mode)
		ret = set_attr(dir, "mode", mode);
	if (!ret && autot)
		ret = set_attr(dir, "autot", autot);
	if (!ret && ro)
		ret = set_attr(dir, "read_only", ro);
	if (!ret)
		ret = set_attr(dir, "enable", "1");
	if (ret) {
		/* Nothing is on the media yet: leave no pending item behind. */
		rmdir(dir);
		return ret;
	}
	return 0;
}

static int cmd_enable(int argc, char **argv, const char *val)
{
	char dir[PATH_MAX];
	int ret;

	if (argc != 2)
		return usage_err("takes a partition name");
	ret = find_cfs(argv[1], dir, sizeof(dir));
	return ret ? ret : set_attr(dir, "enable", val);
}

static int cmd_remove(int argc, char **argv)
{
	char dir[PATH_MAX];
	int ret;

	if (argc != 2)
		return usage_err("remove takes a partition name");
	ret = find_cfs(argv[1], dir, sizeof(dir));
	if (ret)
		return ret;
	if (rmdir(dir))
		return sys_err("rmdir %s", dir);
	return 0;
}

/*
 * The backend of partition ARG ("NAME" or "BACKEND/NAME") into be, its
 * name into name. Returns 0, EXIT_USAGE or EXIT_KERNEL.
 */
static int part_backend(const char *arg, char *be, size_t belen,
			char *name, size_t namelen)
{
	const char *slash = strchr(arg, '/');
	char p[PATH_MAX];

	if (slash) {
		if (slash == arg || (size_t)(slash - arg) >= belen ||
		    !valid_name(slash + 1) || strchr(slash + 1, '/'))
			return usage_err("bad partition name");
		snprintf(be, belen, "%.*s", (int)(slash - arg), arg);
		snprintf(name, namelen, "%s", slash + 1);
		return 0;
	}
	if (!valid_name(arg))
		return usage_err("bad partition name");
	snprintf(name, namelen, "%s", arg);
	snprintf(p, sizeof(p), CLASS_DIR "/%s/backend", arg);
	if (read_attr(p, be, belen)) {
		if (errno == ENOENT) {
			msg("no partition %s (no %s/%s)", arg, CLASS_DIR, arg);
			return EXIT_KERNEL;
		}
		return sys_err("%s", p);
	}
	return 0;
}

/* Write val to the backend's recovery attribute; explain the errors. */
static int write_recovery(const char *be, const char *attr, const char *val,
			  const char *what)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), CFS_DIR "/%s", be);
	if (access(p, F_OK))
		return sys_err("backend %s", p);
	snprintf(p, sizeof(p), CFS_DIR "/%s/%s", be, attr);
	if (access(p, F_OK)) {
		msg("format: not supported by this kernel (no %s)", p);
		return EXIT_NOTSUP;
	}
	if (!write_attr(p, val))
		return 0;
	switch (errno) {
	case EBUSY:
		return sys_err("format %s: %s", what,
			       !strcmp(attr, "format") ?
			       "it is open (close every user first)" :
			       "the label records runtime partitions (remove them first)");
	case EROFS:
		return sys_err("format %s: write-protected by its configuration",
			       what);
	case ENOENT:
		return sys_err("format %s: not a live partition of backend %s",
			       what, be);
	default:
		return sys_err("format %s", what);
	}
}

static int cmd_format(int argc, char **argv)
{
	char be[KNVRAM_NAME_MAX + 2], name[KNVRAM_NAME_MAX + 2];
	int ret;

	if (argc == 3 && !strcmp(argv[1], "--label")) {
		if (!valid_name(argv[2]))
			return usage_err("bad backend name");
		return write_recovery(argv[2], "label_format", "1",
				      "the label area");
	}
	if (argc != 2 || argv[1][0] == '-')
		return usage_err("format takes a partition name, or --label BACKEND");
	ret = part_backend(argv[1], be, sizeof(be), name, sizeof(name));
	return ret ? ret : write_recovery(be, "format", name, name);
}

/* ---- data ---- */

/* Parse -o OFF and -l LEN from argv[2...]; the rest is left in *rest. */
static int range_opts(int argc, char **argv, __u64 *off, __u64 *len,
		      int *has_len, const char **rest)
{
	int i;

	*off = 0;
	*has_len = 0;
	*rest = NULL;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "-l")) {
			__u64 *v = argv[i][1] == 'o' ? off : len;

			if (i + 1 >= argc || parse_num(argv[i + 1], v))
				return usage_err("bad offset or length");
			if (argv[i][1] == 'l') {
				if (!len)
					return usage_err("unknown option");
				*has_len = 1;
			}
			i++;
		} else if (!*rest && (argv[i][0] != '-' || !argv[i][1])) {
			*rest = argv[i];
		} else {
			return usage_err("unknown option or extra argument");
		}
	}
	return 0;
}

static __u64 part_size(const char *name)
{
	char p[PATH_MAX], v[64];
	__u64 n;

	snprintf(p, sizeof(p), CLASS_DIR "/%s/size", name);
	if (read_attr(p, v, sizeof(v)) || parse_num(v, &n))
		return U64_MAX;
	return n;
}

static void hexline(__u64 off, const unsigned char *b, size_t n)
{
	size_t i;

	printf("%08llx ", off);
	for (i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i < n)
			printf(" %02x", b[i]);
		else
			printf("   ");
	}
	printf("  |");
	for (i = 0; i < n; i++)
		putchar(isprint(b[i]) ? b[i] : '.');
	printf("|\n");
}

static int cmd_read(int argc, char **argv, int dump)
{
	unsigned char buf[4096];
	__u64 off, len, size, done = 0;
	const char *rest;
	int fd, ret, has_len;

	if (argc < 2)
		return usage_err("takes a partition name");
	ret = range_opts(argc, argv, &off, &len, &has_len, &rest);
	if (ret)
		return ret;
	if (rest)
		return usage_err("extra argument");
	ret = open_part(argv[1], O_RDONLY, &fd);
	if (ret)
		return ret;
	size = part_size(argv[1]);
	if (size != U64_MAX && off > size) {
		close(fd);
		msg("offset %llu is past the end of %s (%llu bytes)",
		    off, argv[1], size);
		return EXIT_USAGE;
	}
	if (!has_len)
		len = size == U64_MAX ? U64_MAX : size - off;
	while (done < len) {
		size_t want = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t n;

		if (dump && want > 16 * 64)
			want = 16 * 64;
		n = pread(fd, buf, want, off + done);
		if (n < 0) {
			ret = sys_err("read %s at %llu", argv[1], off + done);
			break;
		}
		if (!n) {
			if (has_len) {
				msg("%s ends at %llu, %llu bytes short",
				    argv[1], off + done, len - done);
				ret = EXIT_USAGE;
			}
			break;
		}
		if (dump) {
			ssize_t i;

			for (i = 0; i < n; i += 16)
				hexline(off + done + i, buf + i,
					n - i < 16 ? n - i : 16);
		} else if (fwrite(buf, 1, n, stdout) != (size_t)n) {
			ret = sys_err("stdout");
			break;
		}
		done += n;
	}
	close(fd);
	if (fflush(stdout) && !ret)
		ret = sys_err("stdout");
	return ret;
}

/* Read all of FILE ("-" or NULL: stdin) into a malloc'ed buffer. */
static int slurp(const char *file, unsigned char **data, size_t *len)
{
	size_t cap = 4096;
	int fd = 0, ret = 0;
	ssize_t n;

	if (file && strcmp(file, "-")) {
		fd = open(file, O_RDONLY);
		if (fd < 0)
			return sys_err("%s", file);
	}
	*len = 0;
	*data = malloc(cap);
	if (!*data)
		return sys_err("malloc");
	while ((n = read(fd, *data + *len, cap - *len)) > 0) {
		*len += n;
		if (*len == cap) {
			unsigned char *p = realloc(*data, cap * 2);

			if (!p) {
				n = -1;
				break;
			}
			*data = p;
			cap *= 2;
		}
	}
	if (n < 0) {
		ret = sys_err("%s", file && strcmp(file, "-") ? file : "stdin");
		free(*data);
	}
	if (fd)
		close(fd);
	return ret;
}

static int pwrite_all(int fd, const char *name, const unsigned char *b,
		      size_t len, __u64 off)
{
	while (len) {
		ssize_t n = pwrite(fd, b, len, off);

		if (n < 0)
			return sys_err("write %s at %llu", name, off);
		if (!n) {
			msg("write %s at %llu: no space (past the end)",
			    name, off);
			return EXIT_KERNEL;
		}
		b += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int check_range(const char *name, __u64 off, size_t len)
{
	__u64 size = part_size(name);

	if (size != U64_MAX && (off > size || len > size - off)) {
		msg("%zu bytes at %llu do not fit in %s (%llu bytes)",
		    len, off, name, size);
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	unsigned char *data;
	__u64 off;
	const char *file;
	size_t len;
	int fd, ret, has_len, zero = 0;

	if (argc < 2)
		return usage_err("write takes a partition name");
	ret = range_opts(argc, argv, &off, NULL, &has_len, &file);
	if (ret)
		return ret;
	if (!valid_name(argv[1]))
		return usage_err("bad partition name");
	ret = slurp(file, &data, &len);
	if (ret)
		return ret;
	ret = check_range(argv[1], off, len);
	if (!ret)
		ret = open_part(argv[1], O_WRONLY, &fd);
	if (ret) {
		free(data);
		return ret;
	}
	/* Without autot, the write (one transaction if it is one call) shows at once. */
	if (ioctl(fd, KNVRAMIOC_SETAUTOT, &zero))
		ret = sys_err("KNVRAMIOC_SETAUTOT on %s", argv[1]);
	if (!ret)
		ret = pwrite_all(fd, argv[1], data, len, off);
	if (close(fd) && !ret)
		ret = sys_err("close %s", argv[1]);
	free(data);
	return ret;
}

struct txn_op {
	__u64 off;
	unsigned char *data;
	size_t len;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse one line "OFFSET HEXBYTES" or "OFFSET @FILE" into op. */
static int parse_txn_line(char *line, int lineno, struct txn_op *op)
{
	char *off, *arg, *end;
	size_t i;

	off = strtok(line, " \t");
	arg = strtok(NULL, " \t");
	end = strtok(NULL, " \t");
	if (!off || !arg || end) {
		msg("txn line %d: expected 'OFFSET HEXBYTES' or 'OFFSET @FILE'",
		    lineno);
		return EXIT_USAGE;
	}
	if (parse_num(off, &op->off)) {
		msg("txn line %d: bad offset '%s'", lineno, off);
		return EXIT_USAGE;
	}
	if (arg[0] == '@') {
		int ret = slurp(arg + 1, &op->data, &op->len);

		if (ret)
			msg("txn line %d: cannot read %s", lineno, arg + 1);
		return ret ? EXIT_USAGE : 0;
	}
	if (!strncmp(arg, "0x", 2))
		arg += 2;
	op->len = strlen(arg) / 2;
	if (!op->len || strlen(arg) % 2) {
		msg("txn line %d: bad hex bytes '%s'", lineno, arg);
		return EXIT_USAGE;
	}
	op->data = malloc(op->len);
	if (!op->data)
		return sys_err("malloc");
	for (i = 0; i < op->len; i++) {
		int h = hexval(arg[2 * i]), l = hexval(arg[2 * i + 1]);

		if (h < 0 || l < 0) {
			msg("txn line %d: bad hex bytes '%s'", lineno, arg);
			free(op->data);
			return EXIT_USAGE;
		}
		op->data[i] = h << 4 | l;
	}
	return 0;
}

static int cmd_txn(int argc, char **argv)
{
	struct txn_op *ops = NULL;
	unsigned char *text;
	char *line, *save;
	size_t len;
	int nops = 0, i, fd = -1, ret, lineno = 0;

	if (argc < 2 || argc > 3)
		return usage_err("txn takes a partition name and a file");
	if (!valid_name(argv[1]))
		return usage_err("bad partition name");
	ret = slurp(argc == 3 ? argv[2] : NULL, &text, &len);
	if (ret)
		return ret;
	if (memchr(text, '\0', len)) {
		free(text);
		msg("txn: the input has a NUL byte");
		return EXIT_USAGE;
	}
	text = realloc(text, len + 1);
	if (!text)
		return sys_err("realloc");
	text[len] = '\0';
	/* Parse everything first: bad input begins no transaction. */
	for (line = strtok_r((char *)text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line;
		struct txn_op *n;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		n = realloc(ops, (nops + 1) * sizeof(*ops));
		if (!n) {
			ret = sys_err("realloc");
			goto out;
		}
		ops = n;
		ret = parse_txn_line(p, lineno, &ops[nops]);
		if (ret)
			goto out;
		nops++;
		ret = check_range(argv[1], ops[nops - 1].off,
				  ops[nops - 1].len);
		if (ret) {
			msg("txn line %d: out of range", lineno);
			goto out;
		}
	}
	if (!nops) {
		msg("txn: no writes in the input");
		ret = EXIT_USAGE;
		goto out;
	}
	ret = open_part(argv[1], O_WRONLY, &fd);
	if (ret)
		goto out;
	if (ioctl(fd, KNVRAMIOC_TBEGIN)) {
		ret = sys_err("KNVRAMIOC_TBEGIN on %s", argv[1]);
		goto out;
	}
	for (i = 0; i < nops && !ret; i++)
		ret = pwrite_all(fd, argv[1], ops[i].data, ops[i].len,
				 ops[i].off);
	if (!ret && ioctl(fd, KNVRAMIOC_TCOMMIT))
		ret = sys_err("KNVRAMIOC_TCOMMIT on %s", argv[1]);
	if (ret) {
		if (ioctl(fd, KNVRAMIOC_TABORT))
			ret = sys_err("KNVRAMIOC_TABORT on %s", argv[1]);
		else
			msg("txn on %s aborted: nothing written", argv[1]);
	}
out:
	if (fd >= 0 && close(fd) && !ret)
		ret = sys_err("close %s", argv[1]);
	for (i = 0; i < nops; i++)
		free(ops[i].data);
	free(ops);
	free(text);
	return ret;
}

static int cmd_sync(int argc, char **argv)
{
	int fd, ret;

	if (argc != 2)
		return usage_err("sync takes a partition name");
	ret = open_part(argv[1], O_RDONLY, &fd);
	if (ret)
		return ret;
	if (ioctl(fd, KNVRAMIOC_SYNC))
		ret = sys_err("KNVRAMIOC_SYNC on %s", argv[1]);
	close(fd);
	return ret;
}

static int cmd_watch(int argc, char **argv)
{
	struct knvram_info info;
	struct pollfd pfd;
	__u64 count = 0, seen = 0, commits;
	int fd, ret, i;

	if (argc < 2)
		return usage_err("watch takes a partition name");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc &&
		    !parse_num(argv[i + 1], &count) && count)
			i++;
		else
			return usage_err("bad watch option (-n COUNT)");
	}
	ret = open_part(argv[1], O_RDONLY, &fd);
	if (ret)
		return ret;
	/* INFO resets the handle's POLLPRI event: only later commits count. */
	if (get_info(fd, &info)) {
		if (errno == ENOTTY) {
			close(fd);
			msg("watch: not supported by this kernel (no KNVRAMIOC_INFO)");
			return EXIT_NOTSUP;
		}
		ret = sys_err("KNVRAMIOC_INFO on %s", argv[1]);
		close(fd);
		return ret;
	}
	commits = info.commits;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!count || seen < count) {
		pfd.fd = fd;
		pfd.events = POLLPRI;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = sys_err("poll %s", argv[1]);
			break;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			msg("watch %s: the partition went away", argv[1]);
			ret = EXIT_KERNEL;
			break;
		}
		if (!(pfd.revents & POLLPRI))
			continue;
		if (get_info(fd, &info)) {
			ret = sys_err("KNVRAMIOC_INFO on %s", argv[1]);
			break;
		}
		printf("%s commits=%llu new=%llu generation=%llu dirty=%llu\n", argv[1],
		       info.commits, info.commits - commits,
		       info.generation, info.dirty_bytes);
		commits = info.commits;
		seen++;
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "enable"))
		return cmd_enable(argc, argv, "1");
	if (!strcmp(cmd, "disable"))
		return cmd_enable(argc, argv, "0");
	if (!strcmp(cmd, "remove"))
		return cmd_remove(argc, argv);
	if (!strcmp(cmd, "read"))
		return cmd_read(argc, argv, 0);
	if (!strcmp(cmd, "dump"))
		return cmd_read(argc, argv, 1);
	if (!strcmp(cmd, "write"))
		return cmd_write(argc, argv);
	if (!strcmp(cmd, "txn"))
		return cmd_txn(argc, argv);
	if (!strcmp(cmd, "sync"))
		return cmd_sync(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "format"))
		return cmd_format(argc, argv);
	msg("unknown command '%s' (see 'knvram help')", cmd);
	return EXIT_USAGE;
}
