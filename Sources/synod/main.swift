print("synod")
