from lossctl.entry import main

main()
