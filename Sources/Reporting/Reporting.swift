// Reporting — values in, text out. Pareto fronts and knee points, CSV with fixed number formats, SVG plots.
//
// Owns: the non-dominated filter, the knee-point rule, the CSV writer (RFC 4180 quoting), the SVG writer and
// the plot kinds Leopard draws. Pure: no files, no database, no printing; imports Basics only. The sweep layer
// feeds it rows from the store and writes the returned text where the user asked.
