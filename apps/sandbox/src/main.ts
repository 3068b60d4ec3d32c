console.log("sb")
