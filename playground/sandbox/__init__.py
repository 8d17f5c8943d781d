"""Run learner code in a child process under limits: the runner, the child, the message format, the pool, the CLI."""
