import Engine
print("linstory")
