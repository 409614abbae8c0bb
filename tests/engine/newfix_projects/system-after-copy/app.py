print("hello v1")
