from loyalty_lib.cli import main

main()
