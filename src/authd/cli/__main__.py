from authd.cli.main import main

main()
