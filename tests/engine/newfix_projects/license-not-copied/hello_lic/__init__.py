GREETING = "hello v1"
