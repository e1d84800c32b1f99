// What the forkexec benchmark (system.c) executes: a static program that does nothing and
// exits with 42, so the parent can tell that it really ran.
int main(void) { return 42; }
