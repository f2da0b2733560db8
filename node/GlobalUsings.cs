global using System.Buffers;
global using System.Runtime.CompilerServices;
global using System.Text;
