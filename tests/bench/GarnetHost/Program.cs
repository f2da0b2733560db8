using Garnet;

// Starts Garnet with the arguments given (e.g. --port 7000 --bind 127.0.0.1) and serves until killed.
using var server = new GarnetServer(args);
server.Start();
Console.WriteLine($"Garnet listening; arguments: {string.Join(' ', args)}");
Thread.Sleep(Timeout.Infinite);
