version: dsl/v1
workflow: scale-reading
description: Convert a Celsius reading to Fahrenheit with the example plugin's step kinds.
inputs:
  celsius: float
steps:
  - fahrenheit(example.scale):
      value: $input.celsius
      factor: 1.8
      offset: 32.0
  - unit(example.upper):
      text: "fahrenheit"
  - note(core.log):
      message: str($step.fahrenheit.value) + " " + $step.unit.text
outputs:
  fahrenheit: $step.fahrenheit.value
