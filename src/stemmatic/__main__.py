from stemmatic.cli import main

main()
