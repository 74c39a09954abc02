/*
 * kvctl_shell.c — `kvctl shell`: several commands against one open store.
 *
 * Why. A one-shot kvctl run opens the store, runs one command and closes
 * it; on an in-memory engine (hash, the model without durable=true) the
 * next run starts empty. The shell opens the store once and reads commands
 * from stdin, one per line, until end of input or `quit`: typed at a
 * terminal (with a "kvctl> " prompt on stderr) or from a script
 * (`kvctl -e hash shell < script.txt`, or a here-document).
 *
 * A line is split into words like a shell does, simply: blanks separate
 * words; '...' is taken literally; "..." understands \" and \\; a '#' at
 * the start of a word starts a comment. Any command of the one-shot
 * kvctl works (put, get, del, scan, load FILE, stats, engines, help, dot),
 * with the same flags in force (-e, -d, -o, -x); `quit` or `exit` ends the
 * shell. Differences from one-shot runs: writes to in-memory engines are
 * allowed (the store stays open), get always ends its value with a
 * newline, and `load -` is refused (stdin holds the commands).
 *
 * A failing command does not stop the shell: its message names the line
 * ("kvctl: stdin:3: key not found: k") and the shell's exit status is the
 * status of the first command that failed (0 when none did).
 *
 * Callers must not: run a shell inside a shell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "kvctl.h"

#define MAX_WORDS 64

/* Split line in place into words; returns the count, or -1 with *why set. */
static int split_words(char *line, char **words, const char **why)
{
    char *r = line, *w = line;
    int n = 0;

    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
            r++;
        if (!*r || *r == '#')
            return n;
        if (n == MAX_WORDS) {
            *why = "too many words on one line";
            return -1;
        }
        words[n++] = w;
        while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') {
            if (*r == '\'') {
                char *end = strchr(r + 1, '\'');
                if (!end) {
                    *why = "unterminated '";
                    return -1;
                }
                memmove(w, r + 1, (size_t)(end - r - 1));
                w += end - r - 1;
                r = end + 1;
            } else if (*r == '"') {
                for (r++; *r && *r != '"'; r++) {
                    if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
                        r++;
                    *w++ = *r;
                }
                if (*r != '"') {
                    *why = "unterminated \"";
                    return -1;
                }
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
}

/* Run one line; returns its status (KVCTL_OK for a blank line). */
static int run_line(struct session *s, char *line, bool *quit)
{
    char *words[MAX_WORDS];
    const char *why = NULL;
    int n = split_words(line, words, &why);
    cmd_fn fn;

    if (n < 0)
        return usage_error("%s", why);
    if (n == 0)
        return KVCTL_OK;
    if (!strcmp(words[0], "quit") || !strcmp(words[0], "exit")) {
        *quit = true;
        return KVCTL_OK;
    }
    if (!strcmp(words[0], "shell"))
        return usage_error("shell: already in the shell");
    fn = find_command(words[0]);
    if (!fn)
        return usage_error("unknown command '%s'", words[0]);
    return fn(s, n - 1, words + 1);
}

int cmd_shell(struct session *s, int argc, char **argv)
{
    bool tty = isatty(STDIN_FILENO), quit = false;
    char *line = NULL, where[32];
    size_t cap = 0, lineno = 0;
    int first_fail = KVCTL_OK, st;
    kv_db *db;

    (void)argv;
    if (argc != 0)
        return usage_error("shell: takes no arguments (commands come on stdin)");
    if ((st = session_db(s, &db)))
        return st;
    s->shell = true;
    s->stdin_busy = true;
    usage_in_shell(true);
    if (tty)
        fprintf(stderr, "kvctl shell on %s%s%s: one command per line ('help'; 'quit' or "
                        "end of input to leave)\n",
                s->c->engine, session_volatile(s) ? " (in memory)" : " at ",
                session_volatile(s) ? "" : s->c->path);
    while (!quit) {
        if (tty)
            fputs("kvctl> ", stderr);
        if (getline(&line, &cap, stdin) < 0)
            break;
        lineno++;
        if (!tty) {
            snprintf(where, sizeof(where), "stdin:%zu", lineno);
            msg_where(where);
        }
        st = run_line(s, line, &quit);
        msg_where(NULL);
        fflush(stdout);
        if (st != KVCTL_OK && first_fail == KVCTL_OK)
            first_fail = st;
    }
    if (tty && !quit)
        fputc('\n', stderr);
    free(line);
    usage_in_shell(false);
    return first_fail;
}
