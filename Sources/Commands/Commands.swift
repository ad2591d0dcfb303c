// Commands — the command layer. The only module that prints and decides exit codes.
import Basics
import Storage
