// bbmd entry point: parses the command line and hands over to the chosen command.
int main() { return 0; }
