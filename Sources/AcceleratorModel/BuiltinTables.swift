// Generated from Tables/*.json (the user-visible, versioned tables); a test keeps them identical.
// Regenerate after editing a table: the test prints the expected text on mismatch.

enum BuiltinTables {
    static let json: [String: String] = [
        "45nm": #"""
{
  "format": "leopard-energy-table",
  "version": 1,
  "name": "45nm",
  "technology": "45 nm CMOS, 0.9 V (dynamic energy only; leakage not modelled)",
  "energy_pJ": {
    "bitPlaneAdd": {"pJ": 0.05, "source": "16-bit integer add, 45 nm: Horowitz, 'Computing's energy problem', ISSCC 2014"},
    "queryPrepAdd": {"pJ": 0.05, "source": "16-bit integer add (Horowitz, ISSCC 2014)"},
    "terminationCheck": {"pJ": 0.2, "source": "estimate: two 32-bit adds (bound = P + shifted Q+, compare with T) at 0.1 pJ each (Horowitz, ISSCC 2014)"},
    "qBufferReadBit": {"pJ": 0.3125, "source": "32 KB SRAM, 20 pJ per 64-bit read (Horowitz, ISSCC 2014) / 64"},
    "kBufferReadBit": {"pJ": 0.3125, "source": "32 KB SRAM, 20 pJ per 64-bit read (Horowitz, ISSCC 2014) / 64"},
    "vBufferReadBit": {"pJ": 0.3125, "source": "32 KB SRAM, 20 pJ per 64-bit read (Horowitz, ISSCC 2014) / 64"},
    "dramByte": {"pJ": 162.5, "source": "DRAM 1.3 nJ per 64-bit access, lower end of 1.3-2.6 nJ (Horowitz, ISSCC 2014) / 8"},
    "exponential": {"pJ": 3.0, "source": "estimate: 2 FP16 multiplies (1.1 pJ) + 2 FP16 adds (0.4 pJ) for a piecewise exp and the online-softmax rescale (Horowitz, ISSCC 2014)"},
    "valueMac": {"pJ": 0.9, "source": "estimate: 16-bit integer multiply 0.8 pJ (quadratic interpolation of 8-bit 0.2 and 32-bit 3.1 pJ) + 32-bit add 0.1 pJ (Horowitz, ISSCC 2014)"},
    "normalizeMultiply": {"pJ": 0.8, "source": "estimate: 16-bit integer multiply as above"},
    "fifoPush": {"pJ": 1.0, "source": "estimate: write and read of a ~48-bit flip-flop FIFO entry (score + key index)"}
  },
  "area_um2": {
    "qkLane": {"um2": 70, "source": "per unit per dpuWidth element: 16-bit adder slice, linear interpolation of 8-bit 36 and 32-bit 137 um2 (Horowitz, ISSCC 2014)"},
    "qkUnitControl": {"um2": 300, "source": "estimate per unit: 32-bit accumulate + bound compare (2 x 137 um2, Horowitz ISSCC 2014) and registers"},
    "valueMac": {"um2": 1265, "source": "16-bit multiplier ~1128 um2 (quadratic interpolation of 8-bit 282 um2) + 32-bit adder 137 um2 (Horowitz, ISSCC 2014)"},
    "expUnit": {"um2": 6000, "source": "estimate: 2 x (FP16 multiplier 1640 + FP16 adder 1360 um2) (Horowitz, ISSCC 2014)"},
    "sramBit": {"um2": 0.7, "source": "45 nm 6T cell 0.346 um2 (Mistry et al., IEDM 2007) x 2 for periphery (estimate)"},
    "fifoBit": {"um2": 5, "source": "estimate: one flip-flop with enable at 45 nm"}
  }
}
"""#,
        "7nm": #"""
{
  "format": "leopard-energy-table",
  "version": 1,
  "name": "7nm",
  "technology": "7 nm FinFET, approximate (logic and SRAM scaled from the 45 nm table; dynamic energy only)",
  "energy_pJ": {
    "bitPlaneAdd": {"pJ": 0.005, "source": "45 nm value x 0.1, approximate energy scaling 45 -> 7 nm after Stillmaker & Baas, 'Scaling equations for the accurate prediction of CMOS device performance from 180 nm to 7 nm', Integration 58 (2017)"},
    "queryPrepAdd": {"pJ": 0.005, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "terminationCheck": {"pJ": 0.02, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "qBufferReadBit": {"pJ": 0.03125, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "kBufferReadBit": {"pJ": 0.03125, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "vBufferReadBit": {"pJ": 0.03125, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "dramByte": {"pJ": 31.2, "source": "HBM2 about 3.9 pJ/bit (O'Connor et al., 'Fine-grained DRAM', MICRO 2017) x 8; DRAM does not follow logic scaling"},
    "exponential": {"pJ": 0.3, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "valueMac": {"pJ": 0.09, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "normalizeMultiply": {"pJ": 0.08, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"},
    "fifoPush": {"pJ": 0.1, "source": "45 nm value x 0.1 (Stillmaker & Baas 2017, approximate)"}
  },
  "area_um2": {
    "qkLane": {"um2": 4.2, "source": "45 nm value x 0.06, approximate area scaling 45 -> 7 nm (Stillmaker & Baas 2017)"},
    "qkUnitControl": {"um2": 18, "source": "45 nm value x 0.06 (approximate)"},
    "valueMac": {"um2": 75.9, "source": "45 nm value x 0.06 (approximate)"},
    "expUnit": {"um2": 360, "source": "45 nm value x 0.06 (approximate)"},
    "sramBit": {"um2": 0.054, "source": "7 nm high-density 6T cell 0.027 um2 (TSMC N7, IEDM 2016 as reported) x 2 for periphery (estimate)"},
    "fifoBit": {"um2": 0.3, "source": "45 nm value x 0.06 (approximate)"}
  }
}
"""#,
    ]
}
