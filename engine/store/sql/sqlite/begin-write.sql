-- Take the write lock at once, so the busy timeout applies instead of a failed upgrade later.
BEGIN IMMEDIATE
