"""``python -m oppshape ...`` runs the Hydra CLI."""

from oppshape.cli import main

if __name__ == "__main__":
    main()
